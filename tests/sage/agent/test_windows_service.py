"""The Windows service host, on Linux: pywin32 is replaced by stand-ins handed to it.

What the service manager would see: a frozen executable started without arguments hosts the
service; SvcDoRun serves the real agent from agent.toml (the same `serve` as `agent serve`)
until SvcStop; install records agent.toml's path; the PyInstaller spec builds one folder.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from sage.agent.hosting import CONFIG_OPTION, SERVICE_NAME, AgentHost, Route, route
from sage.agent.windows_service import Pywin32, main, service_class
from tests.fixtures.simulator import client_ssl_context

ROOT = Path(__file__).resolve().parents[3]
SPEC = ROOT / "packaging" / "windows" / "ml-connector-agent.spec"
STOP_PENDING = 3


class FakePywin32:
    """servicemanager, win32service and win32serviceutil as far as the host uses them."""

    def __init__(self, options: dict[str, str] | None = None) -> None:
        self.calls: list[tuple] = []
        self.options = dict(options or {})
        self.listening = threading.Event()
        fake = self

        class ServiceFramework:
            def __init__(self, args):
                self.args = args
                self.statuses: list[int] = []

            def ReportServiceStatus(self, status):  # noqa: N802
                self.statuses.append(status)

        def info(message: str) -> None:
            fake.calls.append(("info", message))
            if "listening on" in message:
                fake.listening.set()

        self.modules = Pywin32(
            servicemanager=SimpleNamespace(
                Initialize=lambda: self.calls.append(("Initialize",)),
                PrepareToHostSingle=lambda cls: self.calls.append(("PrepareToHostSingle", cls)),
                StartServiceCtrlDispatcher=lambda: self.calls.append(("Dispatch",)),
                LogInfoMsg=info,
                LogErrorMsg=lambda message: self.calls.append(("error", message)),
            ),
            win32service=SimpleNamespace(SERVICE_STOP_PENDING=STOP_PENDING),
            win32serviceutil=SimpleNamespace(
                ServiceFramework=ServiceFramework,
                GetServiceCustomOption=lambda name, option, default: self.options.get(
                    f"{name}/{option}", default
                ),
                SetServiceCustomOption=lambda name, option, value: self.options.__setitem__(
                    f"{name}/{option}", value
                ),
                HandleCommandLine=self.handle_command_line,
            ),
        )

    def handle_command_line(self, cls, **kwargs):
        self.calls.append(("HandleCommandLine", cls, kwargs))
        return 0


def agent_toml(folder: Path, pki, company_file: Path) -> Path:
    path = folder / "agent.toml"
    path.write_text(
        "[server]\n"
        'host = "127.0.0.1"\n'
        "port = 0\n"
        f'cert = "file:{pki.server_cert}"\n'
        f'key = "file:{pki.server_key}"\n'
        f'client_ca = "file:{pki.ca_cert}"\n'
        f'[companies.ABC]\nsqlite = "{company_file}"\n'
    )
    return path


def test_the_module_imports_without_pywin32():
    code = (
        "import sys, sage.agent.windows_service; "
        "assert not {'win32service', 'servicemanager'} & set(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_started_without_arguments_it_hosts_the_service_itself():
    fake = FakePywin32()
    assert main(["ml-connector-agent.exe"], pywin32=fake.modules, environ={}) == 0
    names = [call[0] for call in fake.calls]
    assert names == ["Initialize", "PrepareToHostSingle", "Dispatch"]
    hosted = fake.calls[1][1]
    assert issubclass(hosted, fake.modules.win32serviceutil.ServiceFramework)
    assert hosted._svc_name_ == SERVICE_NAME


def test_the_service_serves_the_agent_until_the_service_manager_stops_it(
    tmp_path, simulator_pki, company_files
):
    config = agent_toml(tmp_path, simulator_pki, company_files["ABC"])
    fake = FakePywin32({f"{SERVICE_NAME}/{CONFIG_OPTION}": str(config)})
    service = service_class(fake.modules, {})([SERVICE_NAME])
    running = threading.Thread(target=service.SvcDoRun)
    running.start()
    try:
        assert fake.listening.wait(20), fake.calls
        line = next(message for kind, message in fake.calls if kind == "info")
        port = int(line.split("127.0.0.1:")[1].split(" ")[0])
        with httpx.Client(verify=client_ssl_context(simulator_pki)) as client:
            health = client.get(f"https://localhost:{port}/v1/health").json()
        assert health["companies"] == ["ABC"]
    finally:
        service.SvcStop()
        running.join(20)
    assert not running.is_alive()
    assert service.statuses == [STOP_PENDING]
    assert fake.calls[-1] == ("info", "ml-connector Sage 100 agent stopped.")
    assert "Sage 100 agent listening on 127.0.0.1" in (tmp_path / "logs/agent.log").read_text()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"https://localhost:{port}/v1/health", verify=client_ssl_context(simulator_pki))


def test_a_bad_agent_file_stops_the_service_with_the_sentence_in_the_event_log(tmp_path):
    config = tmp_path / "agent.toml"
    config.write_text("[server]\nport = 'x'\n")
    fake = FakePywin32({f"{SERVICE_NAME}/{CONFIG_OPTION}": str(config)})
    service = service_class(fake.modules, {})([SERVICE_NAME])
    with pytest.raises(ValueError, match="server.cert"):
        service.SvcDoRun()
    kind, message = fake.calls[-1]
    assert kind == "error" and "server.cert: is required" in message


def test_without_a_recorded_path_the_service_reads_agent_toml_under_programdata():
    fake = FakePywin32()
    seen: list[Path] = []

    def host(config_path, started):
        seen.append(config_path)
        return AgentHost(config_path, {}, agent_version="test")

    service_class(fake.modules, {"ProgramData": "D:/Data"}, host)([SERVICE_NAME])
    assert seen == [Path("D:/Data/ml-connector/agent/agent.toml")]


def test_a_stop_before_the_server_is_up_ends_the_run_at_once(
    tmp_path, simulator_pki, company_files
):
    host = AgentHost(
        agent_toml(tmp_path, simulator_pki, company_files["ABC"]), {}, agent_version="test"
    )
    host.stop()
    running = threading.Thread(target=host.run)
    running.start()
    running.join(20)
    assert not running.is_alive()


def test_install_records_the_agent_file_and_refuses_a_missing_one(tmp_path):
    fake = FakePywin32()
    argv = ["ml-connector-agent.exe", "-c", "agent.toml", "--startup", "auto", "install"]
    assert main(argv, pywin32=fake.modules, environ={}) == 0
    _, cls, options = fake.calls[-1]
    assert options["argv"] == argv and options["customInstallOptions"] == "c:"
    config = tmp_path / "agent.toml"
    config.write_text("")
    options["customOptionHandler"]([("-c", str(config)), ("--startup", "auto")])
    assert fake.options == {f"{SERVICE_NAME}/{CONFIG_OPTION}": str(config)}
    with pytest.raises(ValueError, match="there is no agent file"):
        options["customOptionHandler"]([("-c", str(tmp_path / "gone.toml"))])


def test_serve_check_and_certs_are_the_agent_commands_and_need_no_pywin32():
    seen: list[list[str]] = []
    argv = ["ml-connector-agent.exe", "check", "--config", "agent.toml"]
    assert main(argv, agent_command=lambda args: seen.append(args) or 0) == 0
    assert seen == [["agent", "check", "--config", "agent.toml"]]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["x.exe"], Route.DISPATCH),
        (["x.exe", "serve", "--config", "a.toml"], Route.AGENT),
        (["x.exe", "certs", "C:/pki"], Route.AGENT),
        (["x.exe", "-c", "a.toml", "install"], Route.SERVICE),
        (["x.exe", "stop"], Route.SERVICE),
        (["x.exe", "bogus"], Route.SERVICE),
    ],
)
def test_route(argv, expected):
    assert route(argv) is expected


def test_the_pyinstaller_spec_builds_one_folder_with_win32timezone():
    tree = ast.parse(SPEC.read_text(), filename=str(SPEC))
    calls = {
        node.func.id: node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert {"Analysis", "PYZ", "EXE", "COLLECT"} <= set(calls)
    exe = {keyword.arg: keyword.value for keyword in calls["EXE"].keywords}
    assert ast.literal_eval(exe["exclude_binaries"]) is True  # onedir: COLLECT gathers them
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    assert {"win32timezone", "agent_entry.py"} <= strings
    entry = SPEC.parent / "agent_entry.py"
    compile(entry.read_text(), str(entry), "exec")
    assert "windows_service import main" in entry.read_text()
