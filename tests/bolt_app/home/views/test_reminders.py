from bolt_app.home.views.reminders import build_reminders_modal, read_reminder_form
from bolt_app.workspace.reminders import Reminder
from bolt_app.workspace.schedule import CronSchedule
from tests.bolt_app.home.views.blockkit import assert_within_limits


def test_the_modal_stays_within_slacks_limits_however_many_channels_have_reminders():
    many = [Reminder(f"C0{n:07d}", CronSchedule("0 8 * * 1-5")) for n in range(120)]
    view = build_reminders_modal(many)
    assert_within_limits(view)
    assert "…and 35 more" in str(view["blocks"])
    assert "No reminders yet." in str(build_reminders_modal([])["blocks"])


def test_the_form_reads_as_a_reminders_table():
    values = {
        "reminder_channel": {"reminder_channel": {"selected_conversation": "C0AP00001"}},
        "reminder_schedule": {"reminder_schedule": {"value": " 0 8 * * 1-5 "}},
        "reminder_include": {"reminder_include": {"selected_options": [{"value": "due"}]}},
        "reminder_due_within_days": {"reminder_due_within_days": {"value": "5"}},
        "reminder_new_after_days": {"reminder_new_after_days": {"value": "soon"}},
        "reminder_always": {"reminder_always": {"selected_options": []}},
    }
    assert read_reminder_form(values) == {
        "channel": "C0AP00001",
        "schedule": "0 8 * * 1-5",
        "include": ["due"],
        "due_within_days": 5,
        "new_after_days": "soon",
        "always": False,
    }
