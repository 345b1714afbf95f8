"""Issue 15's "done when", as a platform team meets it: the wheel installed in a virtual
environment outside the repository, the server started with environment variables only, in
front of a PostgreSQL that goes away and comes back, with a Slack API that cannot be reached.

It reads JSON logs carrying request ids, sees /livez 200 and /readyz 503 while the database is
away and 200 after, Slack degraded while the API serves, and the same binary refusing a schema
that a newer Playbook left, naming the release it needs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from testkit.ports import free_port
from testkit.serving import wait_live
from testkit.tcp_proxy import TcpProxy
from testkit.waiting import until

import bot

ROOT = Path(bot.__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "bot", "core", "storage")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/ of a fresh virtual environment holding the wheel built from a copy of the tree;
    the dependencies come from the test's own environment (tests reach no index)."""
    work = tmp_path_factory.mktemp("wheel")
    tree = work / "src"
    tree.mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, tree / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w",
                    str(work / "dist"), str(tree)], check=True, timeout=300)
    (wheel,) = (work / "dist").glob("playbook_bot-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    subprocess.run([*pip, "--python", str(venv / "bin" / "python"), "install", "--no-deps",
                    "--no-index", str(wheel)], check=True, timeout=300)
    site = Path(subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()"
         "['purelib'])"], check=True, capture_output=True, text=True).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


def clean_env(**variables: str) -> dict[str, str]:
    """Nothing from the test's shell but PATH (without the repo's venv) and the locale."""
    path = ":".join(p for p in os.environ["PATH"].split(":") if ".venv" not in p)
    return {"PATH": path, "LANG": "C.UTF-8", **variables}


def through(proxy: TcpProxy, url: str) -> str:
    return make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(
        hide_password=False)


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[TcpProxy]:
    target = make_url(postgres_url)
    p = TcpProxy((target.host or "127.0.0.1", target.port or 5432))
    yield p
    p.close()


@pytest.mark.postgres
def test_the_wheel_installed_server_runs_from_the_environment_alone(
        installed: Path, tmp_path: Path, postgres_url: str, proxy: TcpProxy) -> None:
    where = subprocess.run([str(installed / "python"), "-c", "import bot; print(bot.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert str(installed.parent) in where, where  # the wheel's code, not the repository's

    (tmp_path / "playbook.toml").write_text('[models.chat]\nowner = "UANA"\nmetric = "score"\n')
    port = free_port()
    env = clean_env(PLAYBOOK_CONFIG=str(tmp_path / "playbook.toml"),
                    PLAYBOOK_HOME=str(tmp_path / "home"),
                    DATABASE_URL=through(proxy, postgres_url), PLAYBOOK_USER="platform",
                    PLAYBOOK_LOG_LEVEL="INFO", PLAYBOOK_PORT=str(port),
                    SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="secret",
                    SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/")  # nothing listens

    def playbook(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(installed / "playbook"), *argv], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)

    proxy.up()
    refused = playbook("versions", "chat")  # nothing migrates a named database unasked
    assert refused.returncode == 1 and "no Playbook schema yet" in refused.stderr
    migrated = playbook("db", "upgrade")  # the migration job
    assert migrated.returncode == 0, migrated.stderr
    made = playbook("--json", "token", "create", "--name", "ci", "--scope", "register")
    secret = json.loads(made.stdout)["token"]
    proxy.down()

    log = tmp_path / "serve.log"
    with log.open("w") as err:
        server = subprocess.Popen([str(installed / "playbook"), "serve"], env=env, cwd=tmp_path,
                                  stdout=subprocess.DEVNULL, stderr=err)
    url = f"http://127.0.0.1:{port}"
    try:
        def answers(path: str) -> httpx.Response | None:
            assert server.poll() is None, log.read_text()
            try:
                return httpx.get(url + path, timeout=30)
            except httpx.TransportError:
                return None

        live = until(lambda: answers("/livez"), "the server to answer /livez")
        assert live.status_code == 200
        away = httpx.get(url + "/readyz", timeout=30)
        assert away.status_code == 503 and away.json()["error"]["code"] == "STORAGE_FAILED"
        assert httpx.get(url + "/livez").status_code == 200

        proxy.up()
        ready = until(lambda: (r := answers("/readyz")) is not None and r.status_code == 200
                      and r, "/readyz to answer 200 once the database is back")
        assert ready.json()["dependencies"]["slack"].startswith("degraded: cannot reach")
        assert "playbook_slack_up 0" in httpx.get(url + "/metrics").text
        body = {"components": {"prompt": "hello"}, "owner": "UANA", "reason": "r",
                "root": True, "scores": {"score": 0.5}}
        registered = httpx.post(url + "/v1/models/chat/versions", json=body, headers={
            "Authorization": f"Bearer {secret}", "X-Request-ID": "wheel-1"}, timeout=30)
        assert registered.status_code == 201, registered.text
        assert registered.headers["x-request-id"] == "wheel-1"

        def logged() -> list[dict[str, Any]]:
            lines = [json.loads(line) for line in log.read_text().splitlines() if line]
            return [e for e in lines if e.get("request_id") == "wheel-1"]

        assert until(logged, "a log line of the register request")[0]["level"] == "INFO"
    finally:
        server.terminate()
        server.wait(timeout=60)
    lines = log.read_text().splitlines()
    assert all(json.loads(line)["ts"] for line in lines if line)  # JSON lines, uvicorn's too
    assert any(json.loads(line)["logger"].startswith("uvicorn") for line in lines if line)

    engine = create_engine(postgres_url)
    try:
        with engine.begin() as conn:  # what Playbook 9.9.0's migration 9999 leaves
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_newer'")
            conn.exec_driver_sql("INSERT INTO schema_releases (revision, release, migrated_at) "
                                 "VALUES ('9999_newer', '9.9.0', now())")
    finally:
        engine.dispose()
    for argv in (("serve",), ("versions", "chat")):
        old = playbook(*argv)
        assert old.returncode == 1, old.stderr
        assert "9999_newer, migrated by Playbook 9.9.0" in old.stderr, old.stderr
        assert "run Playbook 9.9.0 or newer" in old.stderr


def test_the_installed_wheel_inits_and_seeds_a_sandbox(installed: Path, tmp_path: Path) -> None:
    """A newcomer with the package only: `playbook init`, then `serve --sandbox --seed`, gets
    the starter's model seeded through its starter eval suite, not an empty sandbox."""
    port = free_port()
    env = clean_env(PLAYBOOK_PORT=str(port), PLAYBOOK_USER="newcomer")

    def playbook(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(installed / "playbook"), *argv], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)

    made = playbook("init")
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "playbook.toml").exists() and (tmp_path / "eval_suite.py").exists()
    log = tmp_path / "sandbox.log"
    with log.open("w") as out:
        sandbox = subprocess.Popen([str(installed / "playbook"), "serve", "--sandbox", "--seed"],
                                   env=env, cwd=tmp_path, stdout=out, stderr=out)
    try:
        wait_live(sandbox, f"http://127.0.0.1:{port}", log, "the sandbox")
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=60)
    listed = playbook("--json", "versions", "example")
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 3, log.read_text()
    tags = json.loads(playbook("--json", "tags", "example").stdout)
    assert [t["tag"] for t in tags] == ["production"]
