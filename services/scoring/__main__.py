from services.scoring.app import build_app, build_runtime
from services.scoring.audit.cli import EXTRA as AUDIT_COMMANDS
from services.scoring.classify import cli as classify_cli
from services.scoring.evaluation.cli import EVALUATE
from services.scoring.replay import STREAMS
from services.scoring.settings import ScoringSettings
from shared.cli import main_guard, run_service_cli
from shared.replay_cli import replay_command


def main() -> int:
    return run_service_cli(
        settings_cls=ScoringSettings,
        app_factory=build_app,  # type: ignore[arg-type]
        runtime_factory=build_runtime,  # type: ignore[arg-type]
        extra={
            "full-run": classify_cli.FULL_RUN,
            "bootstrap": classify_cli.BOOTSTRAP,
            "warnings-scan": classify_cli.SCAN,
            "evaluate": EVALUATE,
            **AUDIT_COMMANDS,
            "replay": replay_command(ScoringSettings, build_runtime, STREAMS),
        },
    )


if __name__ == "__main__":
    main_guard(main)
