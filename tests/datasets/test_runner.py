"""The import runner answers progress questions at any moment, even as a read finishes."""

from server.datasets.loading.runner import ImportRunner, Running
from server.importers import Limits


def test_progress_survives_a_reader_that_just_closed_its_file(tmp_path):
    runner = ImportRunner(tmp_path, Limits())
    state = Running(total_bytes=100)

    def closed() -> int:
        raise ValueError("I/O operation on closed file")

    state.meter.bytes = closed
    runner._running[7] = state
    progress = runner.progress(7)
    assert progress["bytes"] == 100 and progress["fraction"] == 1.0
    runner.shutdown()


def test_an_unexpected_error_in_an_import_thread_is_logged(tmp_path, monkeypatch, caplog):
    """Not lost in the thread pool's future, which nobody reads (a file Windows would not let
    go of raised there, and the import stayed "running" without a word in the log)."""
    from server.datasets.loading import runner as runner_module

    def fails(*_args) -> None:
        raise PermissionError(13, "in use by another process")

    monkeypatch.setattr(runner_module.jobs, "run", fails)
    runner = ImportRunner(tmp_path, Limits())
    with caplog.at_level("ERROR"):
        runner.start(7, 100)
        assert runner.wait(7, timeout=10)
        runner.shutdown()
    assert "Import 7 stopped on an unexpected error" in caplog.text
    assert runner.busy() == []
