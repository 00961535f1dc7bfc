"""The frozen Windows agent's entry point: the service host, and `serve`, `check`, `certs`."""

from sage.agent.windows_service import main


def agent_command(argv: list[str]) -> int:
    from bolt_app.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    raise SystemExit(main(agent_command=agent_command))
