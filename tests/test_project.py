from pathlib import Path

from mer.project import main_root, repo_root, resolve_user_path


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "dvc.yaml").write_text("stages: {}\n")
    return path


def test_repo_root_is_found_from_a_subfolder(tmp_path, monkeypatch):
    repo = make_repo(tmp_path / "repo")
    (repo / "stages").mkdir()
    assert repo_root(repo / "stages") == repo.resolve()


def test_main_root_leaves_a_dvc_temp_experiment(tmp_path, monkeypatch):
    repo = make_repo(tmp_path / "repo")
    temp = make_repo(repo / ".dvc" / "tmp" / "exps" / "tmpab12cd")
    assert repo_root(temp) == temp.resolve()
    assert main_root(temp) == repo.resolve()
    # DVC runs a temporary experiment's stages inside the copy, with DVC_ROOT naming the main repo:
    # params and outputs are the copy's, the MLflow store and relative data paths the main repo's
    monkeypatch.chdir(temp)
    monkeypatch.setenv("DVC_ROOT", str(repo))
    assert repo_root() == temp.resolve()
    assert main_root() == repo.resolve()


def test_relative_user_paths_resolve_against_the_main_repository(tmp_path, monkeypatch):
    repo = make_repo(tmp_path / "repo")
    temp = make_repo(repo / ".dvc" / "tmp" / "exps" / "tmp1")
    monkeypatch.chdir(temp)
    assert resolve_user_path("../data/4q") == (tmp_path / "data" / "4q").resolve()
    assert resolve_user_path("/abs/path") == Path("/abs/path")
