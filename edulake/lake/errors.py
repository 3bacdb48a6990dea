"""Errors the ingestion layer raises. Each names the file, and the row and column where they apply."""

from __future__ import annotations


class IngestError(Exception):
    """A file or batch was rejected. The message is what an operator reads, so it names everything."""

    def __init__(self, file: str, message: str, row: int | None = None, column: str | None = None):
        self.file = file
        self.row = row
        self.column = column
        self.message = message
        where = file
        if row is not None:
            where += f" 第{row}行 (row {row})"
        if column is not None:
            where += f" 列「{column}」"
        super().__init__(f"{where}: {message}")


class SourceError(IngestError):
    """The source file cannot be read as the standard says it is delivered."""


class BatchRejected(IngestError):
    """A batch-level (fatal) rule failed: no row of the batch reaches silver."""
