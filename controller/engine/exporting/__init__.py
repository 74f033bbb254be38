"""``dr-gitops export``: write the models and jobs of a DataRobot account as manifests.

Public surface::

    Exporter(client, ExportSettings(out=Path("repo"), namespace=None)).run() -> ExportReport
    slugify(display_name, fallback) -> str          # metadata.name from a display name

Modules: :mod:`.selecting` (what to export, owned or not, names), :mod:`.documents` and
:mod:`.drafting` (live values → manifest documents), :mod:`.yamlwriting` (YAML with comments),
:mod:`.writing` (the folder on disk), :mod:`.exporting` (the run), :mod:`.report` and
:mod:`.readme` (what it tells the user).
"""

from controller.engine.exporting.exporting import Exporter, ExportSettings
from controller.engine.exporting.naming import slugify
from controller.engine.exporting.report import ExportedObject, ExportFailure, ExportReport
from controller.engine.exporting.selecting import Skipped

__all__ = [
    "ExportFailure",
    "ExportReport",
    "ExportSettings",
    "ExportedObject",
    "Exporter",
    "Skipped",
    "slugify",
]
