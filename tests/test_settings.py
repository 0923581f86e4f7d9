"""Settings: defaults, operator file, environment, and clear errors."""

from __future__ import annotations

import pytest

from cyclades import conf

BASE = {"CYCLADES_SECRET_KEY": "k" * 40}


def test_defaults_apply_and_data_dir_is_substituted():
    values = conf.load({**BASE, "CYCLADES_DATA_DIR": "/srv/c"})
    assert values["DATABASE_URL"] == "sqlite:////srv/c/cyclades.sqlite3"
    assert values["BUS_URL"] == "memory://"
    assert values["DEBUG"] is False


def test_environment_overrides_settings_file(tmp_path):
    path = tmp_path / "settings.py"
    path.write_text("REGION = 'Athens'\nDEBUG = True\nSECRET_KEY = '%s'\n" % ("s" * 40))
    values = conf.load({"CYCLADES_SETTINGS": str(path), "CYCLADES_REGION": "Crete"})
    assert values["REGION"] == "Crete"
    assert values["DEBUG"] is True


def test_missing_required_setting_is_named():
    with pytest.raises(conf.SettingsError, match="CYCLADES_SECRET_KEY: required setting SECRET_KEY is not set"):
        conf.load({})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CYCLADES_DATABASE_URL": "mongodb://x/y"}, "CYCLADES_DATABASE_URL: .*unknown database scheme 'mongodb'"),
        ({"CYCLADES_BUS_URL": "kafka://x"}, "CYCLADES_BUS_URL: .*unknown message bus scheme 'kafka'"),
        ({"CYCLADES_DEBUG": "maybe"}, "CYCLADES_DEBUG: .*expected a boolean"),
        ({"CYCLADES_DATABASE_CONN_MAX_AGE": "soon"}, "CYCLADES_DATABASE_CONN_MAX_AGE"),
        ({"CYCLADES_PUBLIC_URL": "example.org"}, "CYCLADES_PUBLIC_URL: .*absolute http"),
        ({"CYCLADES_SECRET_KEY": "short"}, "CYCLADES_SECRET_KEY: .*at least 32"),
    ],
)
def test_invalid_values_name_the_setting(env, message):
    with pytest.raises(conf.SettingsError, match=message):
        conf.load({**BASE, **env})


def test_unknown_names_in_settings_file_are_refused(tmp_path):
    path = tmp_path / "settings.py"
    path.write_text("DATABSE_URL = 'sqlite:///x'\n")
    with pytest.raises(conf.SettingsError, match="unknown setting.*DATABSE_URL"):
        conf.load({**BASE, "CYCLADES_SETTINGS": str(path)})


def test_settings_file_that_does_not_exist(tmp_path):
    with pytest.raises(conf.SettingsError, match="CYCLADES_SETTINGS: settings file .* does not exist"):
        conf.load({**BASE, "CYCLADES_SETTINGS": str(tmp_path / "nope.py")})


def test_example_settings_file_documents_every_setting():
    from pathlib import Path

    example = (Path(__file__).parent.parent / "conf" / "settings.example.py").read_text()
    assert example == conf.example_file(), "regenerate: python -m cyclades.conf > conf/settings.example.py"
    for setting in conf.SETTINGS:
        assert f"# {setting.name} = " in example
