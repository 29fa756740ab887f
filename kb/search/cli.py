"""`kb reindex`: rebuild the search index from the database."""

import sys

import click
from flask.cli import with_appcontext


@click.command("reindex")
@with_appcontext
def reindex_command():
    """Rebuild the search index from the database (search keeps answering meanwhile)."""
    import sqlalchemy as sa

    from kb.search import indexer

    try:
        total = indexer.count_documents()
        with click.progressbar(
            length=total, label="Индексация страниц", file=sys.stderr, show_pos=True
        ) as bar:
            procs = indexer.rebuild_processes(total)
            documents = indexer.rebuild(progress=bar.update, procs=procs)
        extracted = 0
        while True:
            done = indexer.extract_pending(indexer.EXTRACT_BATCH * procs, workers=procs)
            if not done:
                break
            extracted += done
        if extracted:
            indexer.apply_changes()
    except indexer.IndexBusy as error:
        raise click.ClickException(
            "индекс занят другим процессом слишком долго; повторите позже"
        ) from error
    except sa.exc.SQLAlchemyError as error:
        first_line = str(getattr(error, "orig", error)).splitlines()[0]
        raise click.ClickException(
            f"ошибка базы данных ({first_line}); выполнена ли `kb init`?"
        ) from error
    message = f"Индекс перестроен: {documents} документов."
    if extracted:
        message += f" Прочитано файлов: {extracted}."
    click.echo(message)
