"""Grading a whole class: ``grade batch EXERCISE SUBMISSIONS --out DIR``.

    discover.py   students from a folder (one file or one folder each)
    cache.py      outcomes cached by content; atomic writes
    task.py       the per-submission task, run by any executor, and its outcome
    worker.py     the local worker process (``python -m grader.batch.worker``)
    executor.py   where tasks run: local processes (--jobs N) or a Dask cluster
    records.py    one student's record and status; error results
    run.py        the batch itself: resume, grade, write every file
    gradebook.py  gradebook.csv and grades.json
    summary.py    the class summary page
    progress.py   progress lines and the live bar with its ETA

Modules are imported where used; importing this package costs nothing.
"""
