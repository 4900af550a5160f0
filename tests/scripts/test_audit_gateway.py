"""make audit: the gateway's pins against the advisories kept in requirements/advisories/."""
from __future__ import annotations

import importlib.util
import json
import sys

from bot.settings import PROJECT_ROOT

_spec = importlib.util.spec_from_file_location("audit_gateway", PROJECT_ROOT / "scripts" / "audit_gateway.py")
audit = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = audit  # its dataclass looks its module up there
_spec.loader.exec_module(audit)


def advisory(fixed, introduced="0", package="demo-pkg"):
    return audit.Advisory(id="TEST-1", package=package, introduced=introduced, fixed=fixed,
                          summary="a test advisory", source="https://example.invalid/TEST-1")


def test_an_advisory_applies_from_introduced_up_to_but_not_including_fixed():
    ranged = advisory(fixed="3.13.3", introduced="1.0.5")
    assert [v for v in ("1.0.4", "1.0.5", "3.9.5", "3.13.2", "3.13.3", "3.14.5") if ranged.affects(v)] == [
        "1.0.5", "3.9.5", "3.13.2",
    ]
    assert advisory(fixed=None, introduced="2.0").affects("9.9") and not advisory(fixed=None, introduced="2.0").affects("1.9")


def test_pins_are_read_with_extras_comments_and_markers_and_names_normalised(tmp_path):
    pins = tmp_path / "pins.txt"
    pins.write_text("# header\nAiohttp_Jinja2==1.6\nrasa[jieba,spacy]==3.6.21 ; python_version < '3.11'\n"
                    "-r other.txt\nloose>=1\nPyYAML==6.0.4  # yaml\n", encoding="utf-8")
    assert audit.read_pins(pins) == {"aiohttp-jinja2": "1.6", "rasa": "3.6.21", "pyyaml": "6.0.4"}


def test_findings_and_exit_codes(tmp_path, capsys, monkeypatch):
    (tmp_path / "adv").mkdir()
    (tmp_path / "adv" / "one.json").write_text(json.dumps({"advisories": [
        {"id": "TEST-2", "package": "Demo_Pkg", "fixed": "2.0", "summary": "s", "source": "u"}]}), encoding="utf-8")
    monkeypatch.setattr(audit, "ADVISORIES_DIR", tmp_path / "adv")
    old, new = tmp_path / "old.txt", tmp_path / "new.txt"
    old.write_text("demo-pkg==1.9\n", encoding="utf-8")
    new.write_text("demo-pkg==2.0\n", encoding="utf-8")
    assert audit.main(["--pins", str(old)]) == 1
    assert "demo-pkg 1.9: TEST-2 (fixed in 2.0)" in capsys.readouterr().out
    assert audit.main(["--pins", str(old), "--report-only"]) == 0
    assert audit.main(["--pins", str(new)]) == 0
    assert "no known vulnerability" in capsys.readouterr().out
    assert audit.main(["--pins", str(tmp_path / "missing.txt")]) == 2


def test_the_gateway_pins_have_no_known_advisory_and_rasa_pinned_aiohttp_has_them():
    advisories = audit.load_advisories()
    for pins in ("gateway.txt", "gateway-dev.txt"):
        assert audit.findings(audit.read_pins(PROJECT_ROOT / "requirements" / pins), advisories) == []
    rasa_env = audit.findings(audit.read_pins(PROJECT_ROOT / "constraints.txt"), advisories)
    assert "CVE-2025-69223" in {a.id for package, _, a in rasa_env if package == "aiohttp"}
    assert all(a.source.startswith("https://") for a in advisories)
