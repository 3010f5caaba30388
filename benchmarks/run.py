# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the benchmarks and write docs/performance.md (make bench).

    python benchmarks/run.py [--only iam ssm fleet report] [--fleet 5 10 20] [--iam-repetitions 3]
                             [--experiments | --no-experiments]

Sections not run keep their last results in build/bench/results.json; the page is always rewritten
from everything stored there.
"""

import argparse
import datetime
import importlib.metadata
import platform
import sys

import common


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=["iam", "ssm", "fleet", "report"],
                        default=["iam", "ssm", "fleet", "report"])
    parser.add_argument("--fleet", nargs="+", type=int, default=[5, 10, 20], metavar="N")
    parser.add_argument("--ssm", nargs="+", type=int, default=[1, 10, 50], metavar="N")
    parser.add_argument("--iam-repetitions", type=int, default=3)
    # The side studies (serial batches, agent mode, speed settings) add about 17 runs at the smallest N (about 10
    # minutes by the last full run's figures), which would take a full run past 40 minutes: off unless asked for.
    parser.add_argument("--experiments", dest="experiments", action="store_true", default=False,
                        help="also run the side studies at the smallest N (their earlier results are kept otherwise)")
    parser.add_argument("--no-experiments", dest="experiments", action="store_false", help="the default")
    args = parser.parse_args(argv)

    versions = {name: importlib.metadata.version(dist) for name, dist in
                (("ansible", "ansible"), ("ansible_core", "ansible-core"), ("moto", "moto"), ("boto3", "boto3"))}
    from ansible_collections.amazon.aws.plugins.module_utils.common import AMAZON_AWS_COLLECTION_VERSION
    if set(args.only) - {"report"}:  # the page shows when the measurements were made, not when it was written
        common.save_results("meta", dict(versions, amazon_aws=AMAZON_AWS_COLLECTION_VERSION,
                                         date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                                         machine=f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores"))
    if "iam" in args.only:
        import iam
        print("[bench] 1. IAM API economy", flush=True)
        common.save_results("iam", iam.run(args.iam_repetitions))
    if "ssm" in args.only:
        import ssm
        print("[bench] 2. Parameter Store economy", flush=True)
        common.save_results("ssm", ssm.run(tuple(args.ssm)))
    if "fleet" in args.only:
        import fleet
        print(f"[bench] 3. fleet speed, N = {args.fleet}", flush=True)
        new = fleet.run(tuple(args.fleet), experiments=args.experiments)
        # A new fleet run replaces every size (rows from an earlier version of the role would mislead); side
        # studies are replaced when re-run.
        old = common.load_results().get("fleet", {})
        merged = {"sizes": new["sizes"],
                  "experiments": new["experiments"] or old.get("experiments", {}),
                  "ssm": new["ssm"] or old.get("ssm", []),
                  "key_store": new["key_store"],
                  "experiments_run": common.load_results()["meta"]["date"] if new["experiments"] else old.get("experiments_run")}
        common.save_results("fleet", merged)
    import report
    written = report.write()
    print(f"[bench] wrote {' and '.join(str(path.relative_to(common.ROOT)) for path in written)}")


if __name__ == "__main__":
    sys.exit(main())
