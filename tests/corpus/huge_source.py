# The test appends 5 MB of "a=1" lines: parsing that costs gigabytes of memory, so the grader
# must refuse the file by its size before it reads a line of it.
