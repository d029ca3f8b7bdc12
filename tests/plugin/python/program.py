"""OffsetReset from Python: an inline Automation API program that uses the generated typed SDK
(pulumi_dms_offset_reset). python.test.ts runs one step per invocation and checks dms-local in between.

    program.py WORK_DIR STEP [TIMESTAMP]

WORK_DIR holds the project's Pulumi.yaml (runtime python, `plugins: providers` naming the plugin's directory);
the backend and passphrase come from the environment. STEP: init, up, preview, refresh, preview-no-changes,
destroy. Prints one JSON object on its last stdout line.
"""
import json
import os
import sys

import pulumi
from pulumi import automation as auto

import pulumi_dms_offset_reset as dms


def program(timestamp):
    def run():
        rewind = dms.OffsetReset(
            "rewind",
            project_id=os.environ["DMS_PROJECT_ID"],
            instance_id=os.environ["DMS_INSTANCE_ID"],
            group="billing",
            topic="payments",
            timestamp=timestamp,
        )
        pulumi.export("previousOffsets", rewind.previous_offsets)
        pulumi.export("appliedOffsets", rewind.applied_offsets)
        pulumi.export("requestId", rewind.request_id)

    return run


def main():
    work_dir, step = sys.argv[1], sys.argv[2]
    timestamp = sys.argv[3] if len(sys.argv) > 3 else os.environ.get("DMS_TIMESTAMP", "")
    stack = auto.create_or_select_stack(
        stack_name="dev",
        project_name="offset-reset-python",
        program=program(timestamp),
        opts=auto.LocalWorkspaceOptions(work_dir=work_dir),
    )
    printed = []
    out = lambda text: printed.append(text)  # noqa: E731
    if step == "init":
        stack.set_config("dms-offset-reset:accessKey", auto.ConfigValue(os.environ["DMS_AK"], secret=True))
        stack.set_config("dms-offset-reset:secretKey", auto.ConfigValue(os.environ["DMS_SK"], secret=True))
        stack.set_config("dms-offset-reset:endpoint", auto.ConfigValue(os.environ["DMS_ENDPOINT"]))
        result = {}
    elif step == "up":
        up = stack.up(on_output=out)
        result = {"summary": up.summary.resource_changes, "outputs": {k: v.value for k, v in up.outputs.items()}}
    elif step == "preview":
        events = []
        preview = stack.preview(on_output=out, on_event=events.append)
        steps = [
            {"op": str(e.resource_pre_event.metadata.op.value), "type": e.resource_pre_event.metadata.type, "keys": e.resource_pre_event.metadata.keys}
            for e in events
            if e.resource_pre_event is not None
        ]
        diagnostics = [e.diagnostic_event.message for e in events if e.diagnostic_event is not None and e.diagnostic_event.urn]
        result = {"changes": preview.change_summary, "steps": steps, "diagnostics": diagnostics}
    elif step == "refresh":
        result = {"summary": stack.refresh(on_output=out).summary.resource_changes}
    elif step == "preview-no-changes":
        result = {"changes": stack.preview(on_output=out, expect_no_changes=True).change_summary}
    elif step == "destroy":
        result = {"summary": stack.destroy(on_output=out).summary.resource_changes}
    else:
        raise SystemExit(f"unknown step {step}")
    result["printed"] = "".join(printed)
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
