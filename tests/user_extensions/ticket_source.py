"""An IMP condition with a new source, from a user's own module: `ticket_reinit` derives each level
from the ticket's own chain (mask_weights' previous level, trained): the ticket's next mask, on a
fresh initialization. Two entries and no file of ticketlab touched: the source (which earlier run a
level derives from; the engine trains that one first) and the condition."""
from ticketlab.pruning.conditions import (CONDITIONS, DENSE, SOURCES, Condition, Source, imp_mask, register_condition,
                                          register_source)
from ticketlab.pruning.masks import apply_mask


def _ticket_reinit(x):
    mask = imp_mask(x)
    return mask, apply_mask(x.fresh, mask)


def register():
    """Register the entries; returns (registry, name) of each, for undoing."""
    register_source(Source("ticket", lambda level, condition: (level - 1, "mask_weights") if level > 1 else (0, DENSE)))
    register_condition(Condition("ticket_reinit", 101, _ticket_reinit, "ticket mask / re-init", "#000000",
                                 source="ticket"))
    return [(CONDITIONS, "ticket_reinit"), (SOURCES, "ticket")]
