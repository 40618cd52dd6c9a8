from __future__ import annotations

from ..ir import TRUE, Blank, Check, Cmp, Col, InValues, IsTrue, Lit, Not, Pred, Unchecked, all_of, any_of
from ..lookups import no_fields, queue_value, sem
from . import counts, family


@family("routing-consistent")
def build(model, contract):
    """Routing: leads sit in the queue the routing rules choose.

    `routing-consistent`: one per routed lead whose queue is neither the first matching rule's queue
    nor the fallback queue
    """
    r = model.routing
    if not r:
        return
    rid, title = "routing-consistent", "Leads sit in the queue the routing rules choose"
    queue_f = sem(contract, "leads", "queue")
    if not queue_f:
        yield Unchecked(rid, title, "routing", no_fields(contract, "leads", "queue"))
        return
    order = r.order(model.score_field())  # the model's one description of first-match-wins
    matches = [(all_of(*(route_test(c) for c in e.conditions)), queue_value(model, e.queue)) for e in order[:-1]]
    ok = [Cmp("=", Col(queue_f), Lit(queue_value(model, order[-1].queue)))]
    for i, (m, q) in enumerate(matches):
        earlier = [Not(IsTrue(pm)) for pm, _ in matches[:i]]
        ok.append(all_of(IsTrue(m), *earlier, Cmp("=", Col(queue_f), Lit(q))))
    yield Check(id=rid, title=title, section="routing", table="leads",
                applies=Not(Blank(Col(queue_f))), violates=Not(any_of(*ok)), counts=counts(build, rid))


def route_test(c) -> Pred:
    """A routing condition (`RouteCondition`) as a predicate; NULL never satisfies it."""
    if c.field is None:
        return Not(TRUE)  # a minimum score without any score field: never holds
    if c.op == "in":
        return InValues(Col(c.field), c.values)
    return Cmp(">=", Col(c.field), Lit(c.values[0]))
