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
