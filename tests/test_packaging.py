"""The package works when installed non-editable: templates, static files and catalogs ship."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHECK = r"""
import sys
from pathlib import Path
import kb
target = Path(sys.argv[1]).resolve()
assert Path(kb.__file__).resolve().is_relative_to(target), kb.__file__
assert kb.asset_dir("templates").resolve().is_relative_to(target)
app = kb.create_app({"KB_DATA_DIR": sys.argv[2], "KB_ASYNC_MODE": "threading"})
from kb.database import upgrade_database
with app.app_context():
    upgrade_database()
client = app.test_client()
home = client.get("/").get_data(as_text=True)
assert "Главная" in home, home[:500]
assert "Home" in client.get("/?lang=en").get_data(as_text=True)
assert client.get("/static/css/kb.css").status_code == 200
print("ok")
"""


def test_installed_wheel_finds_templates_static_and_catalogs(tmp_path):
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheel_dir),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    wheel = next(wheel_dir.glob("kb-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "kb/templates/base.html" in names
    assert "kb/static/css/kb.css" in names
    assert "kb/translations/en/LC_MESSAGES/messages.mo" in names
    assert "kb/migrations/env.py" in names

    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("KB_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", CHECK, str(target), str(tmp_path / "data")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")
