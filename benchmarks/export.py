"""Benchmark: CRM export and the CRM client's paging, each against a reference in the same run.

    .venv/bin/python -m benchmarks.export [--source process/lead-management] [--records 20000]

1. Export: computing the CRM mapping and rendering both exports (Salesforce
   XML, HubSpot JSON + Markdown) in memory, against loading and validating the
   same playbook (the step every command pays first). Goal: under 1x.
2. Paging: `SalesforceClient.query` pulling N records through the local fake
   CRM (200 per page, following nextRecordsUrl), against plain httpx GETs of
   the very same pages. The ratio is the client's overhead (retry bookkeeping,
   redaction hooks, attribute stripping). Goal: under 1.5x.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks import best_of, goal, median, spread

EXPORT_GOAL, PAGING_GOAL = 1.0, 1.5

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    """Print timings and ratios."""
    ap = argparse.ArgumentParser(prog="benchmarks.export")
    ap.add_argument("--source", type=Path, default=ROOT / "process" / "lead-management")
    ap.add_argument("--records", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3, help="interleaved runs of each side (>= 3)")
    args = ap.parse_args(argv)

    import httpx

    from generator.crm.salesforce import SalesforceClient
    from generator.export import hubspot, salesforce
    from generator.export.mapping import build_spec
    from generator.validate import load_playbook

    sys.path.insert(0, str(ROOT / "tests"))
    from fakecrm import FakeCRM

    model = load_playbook(args.source)
    runs = max(3, args.repeat)

    def export() -> int:
        spec = build_spec(model)
        return len(salesforce.render(spec)) + len(hubspot.render(spec))

    n_files = export()
    loads, exports, ratios = [], [], []
    for _ in range(runs):  # interleaved: run k of one against run k of the other
        loads.append(best_of(lambda: load_playbook(args.source), 1))
        exports.append(best_of(export, 1))
        ratios.append(exports[-1] / loads[-1])
    print(f"export of {args.source.name} ({n_files} files): {median(exports) * 1000:.1f} ms; "
          f"load+validate (reference): {median(loads) * 1000:.1f} ms (medians of {runs})")
    print(f"  ratio export / load+validate: {spread(ratios)} " + goal(median(ratios) < EXPORT_GOAL, f"< {EXPORT_GOAL:g}x"))

    with FakeCRM(page_size=200) as fake:
        fake.sf.tables["Lead"] = [{"Id": f"00Q{i:015d}", "Status": "new", "LeadSource": "web_form",
                                   "CreatedDate": "2026-01-01T00:00:00.000+0000"} for i in range(args.records)]
        soql = "SELECT Id, Status, LeadSource, CreatedDate FROM Lead"

        def with_client() -> int:
            with SalesforceClient.from_env(fake.sf_env()) as client:
                return sum(1 for _ in client.query(soql))

        def plain_httpx() -> int:
            count = 0
            headers = {"Authorization": f"Bearer {fake.token}"}
            with httpx.Client(base_url=fake.url, headers=headers) as c:
                page = c.get("/services/data/v62.0/query", params={"q": soql}).json()
                while True:
                    count += len(page["records"])
                    if page["done"]:
                        return count
                    page = c.get(page["nextRecordsUrl"]).json()

        assert with_client() == plain_httpx() == args.records
        clients, plains, pratios = [], [], []
        for _ in range(runs):
            plains.append(best_of(plain_httpx, 1))
            clients.append(best_of(with_client, 1))
            pratios.append(clients[-1] / plains[-1])
    print(f"query paging of {args.records} records: client {median(clients) * 1000:.0f} ms; plain httpx (reference) "
          f"{median(plains) * 1000:.0f} ms (medians of {runs})")
    print(f"  ratio client / plain httpx: {spread(pratios)} " + goal(median(pratios) < PAGING_GOAL, f"< {PAGING_GOAL:g}x"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
