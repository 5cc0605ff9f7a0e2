"""Benchmarks of campaigner as cron and volunteers run it: whole processes, figures with targets.

Run `python -m benchmarks` from the project root (or `--smoke` for tiny sizes in a few seconds).
"""
