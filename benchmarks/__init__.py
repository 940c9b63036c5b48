"""Benchmarks of Panda Watch: crawl throughput, store throughput and the cost of an unchanged re-crawl.

Run `python -m benchmarks.run [--quick]` from the project root; docs/benchmarks.md says what each number
means. They are not part of the test suite: they print goals as met or not met instead of asserting them.
"""
