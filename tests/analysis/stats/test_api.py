import ast
import pathlib
import re

import analysis.engine.stats as stats

PACKAGE = pathlib.Path(stats.__file__).parent
FORBIDDEN = ("django", "rest_framework", "celery", "experiments", "assignment")


def test_public_api__names_from_issue__importable():
    for name in (
        "ProportionStats",
        "MeanStats",
        "RatioStats",
        "compare",
        "Comparison",
        "srm_check",
        "SrmResult",
        "adjust_p_values",
        "sample_size",
        "minimum_detectable_effect",
        "expected_duration_days",
        "winsorize",
        "ENGINE_VERSION",
    ):
        assert hasattr(stats, name), name
    assert set(stats.__all__) <= set(dir(stats))


def test_engine_version__constant__semantic_version_string():
    assert re.fullmatch(r"\d+\.\d+\.\d+", stats.ENGINE_VERSION)


def test_stats_package__every_module__imports_no_framework_or_app():
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"


def test_stats_package__every_module__under_300_lines():
    for path in PACKAGE.glob("*.py"):
        assert len(path.read_text().splitlines()) <= 300, path.name
