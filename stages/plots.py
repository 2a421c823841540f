"""Stage `plots`: learning curves, per-fold accuracy, confusion matrices and SSSL timelines → plots/*.png."""

from mer.plots import write_plots
from mer.stage import run_stage


def main(p, run):
    written = write_plots("metrics", "plots")
    run.log_artifacts("plots", "plots")
    print(f"[plots] {len(written)} figures in plots/ (dvc plots show embeds them)")


if __name__ == "__main__":
    run_stage("plots", main, [])
