"""One thin script per DVC stage: read params, call ``mer``, write outputs (run as ``python -m stages.<name>``).

Importing the package sizes the process's thread pools before any stage imports
numpy or torch (:func:`mer.runtime.configure`).
"""

from mer.runtime import configure

configure()
