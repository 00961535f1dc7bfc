"""Slash commands. /sage-status reads the database only, never the agent, so a slow or dead
agent cannot delay it; it acks first and answers through the command's response_url."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond

from bolt_app.status.views import build_not_configured_blocks, build_status_blocks, status_summary

STATUS_COMMAND = "/sage-status"


def register(app: AsyncApp, services) -> None:
    @app.command(STATUS_COMMAND)
    async def sage_status(ack: AsyncAck, respond: AsyncRespond, context: AsyncBoltContext):
        await ack()
        async with services.sessions() as session:
            status = await services.load_status(session, context.team_id, services.now())
        if status is None:
            await respond(
                response_type="ephemeral",
                text="No Sage 100 agent is configured for this workspace yet.",
                blocks=build_not_configured_blocks(context.team_id),
            )
            return
        await respond(
            response_type="ephemeral",
            text=status_summary(status),
            blocks=build_status_blocks(status),
        )
