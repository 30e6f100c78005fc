"""The independent lower bound: the least time Graph allows for reading a tenant's content.

It is computed from what the tenant holds (objects per kind, the size of each object's
relationships), never from what the client did, so a wasteful client cannot raise its own bar.

Terms, all for one full read of the kinds an export writes (`COLLECTIONS`):

requests
    The fewest Graph requests for that content. A collection of n objects is
    ``ceil(n / page)`` list pages (at least one), ``page`` being Graph's maximum for directory
    collections (999, ``$top=999``) and Graph's default page (100) elsewhere; a singleton is one
    GET. A relationship of k links on one object (group members, owners, a service principal's
    ``appRoleAssignedTo``) is ``ceil(k / 999)`` pages of its own (at least one), unless it rides
    along on the list with ``$expand``: Graph expands one relationship per request, caps an expanded
    list page at 100 objects and returns at most 20 linked objects per parent, so objects with more
    than 20 links still need their own read. For each kind the cheaper of "no $expand" and
    "$expand one relationship" (in resource units, then requests) is taken. A list Graph serves only
    below each object and documents no ``$expand`` for (an application's federated identity
    credentials, a partner's identity synchronization) is one read per object. The names of users
    that exported objects reference (users themselves are not exported) are the cheaper of
    listing every user (``ceil(users / 999)`` pages) and ``directoryObjects/getByIds``
    (``ceil(referenced / 1000)`` requests).

round trips
    Relationship reads and getByIds go in ``$batch`` envelopes of 20 (one HTTP round trip each), and
    so do the first pages of the collections and the singletons outside the CA family (Graph paces
    that family per request); a collection's next pages are one round trip each (each nextLink comes
    from the page before). The envelope itself costs no resource units.

resource units (RU)
    Each request priced as Graph's identity throttling table, mirrored by the simulator
    (entragit_sim/router.py ``_throttle``): a list GET costs 1, 2 for users, applications and
    oauth2PermissionGrants; members/owners 3; getByIds 3; ``$select`` takes 1 off (the bound
    assumes the client names the properties it exports), ``$expand`` adds 1; never below 1.
    Conditional Access policies and named locations are in the CA family instead, and the
    policies under /policies are in no throttled family.

ru_s
    The RU bucket holds 3,500 RU per 10 s per app and tenant (entragit_sim/throttle.py): it
    starts full and refills at 350 RU/s, so spending R RU takes at least ``(R - 3500) / 350`` s.

ca_s
    The CA family allows 1 request per second per tenant: c requests take at least ``c - 1`` s.

latency_s
    One round trip measured on the simulator (median of a few small GETs). Even with unlimited
    concurrency, a collection's pages are sequential (each nextLink comes from the page before)
    and relationships can only be read once their parents are listed, so the critical path is
    ``(longest page chain + 1) x latency``; and the last request granted by a throttle still
    takes one round trip.

seconds = max(ru_s + latency, ca_s + latency, critical path)

Restoring deleted objects (``restore_bound``, the ``restore_1000`` scenario) adds the least Graph
allows for the writes that bring them back, counted from what was deleted, never from the plan:

writes
    A soft-deleted directory object comes back with one ``POST /directory/deletedItems/{id}/restore``
    (its memberships and the assignments naming it come back with it). A hard-deleted (or not
    restorable) object is one create, and then every relationship link it was in (its own members
    and owners, and its membership of the groups and administrative units that survived or were
    restored) is one ``$ref`` add; an object that named it in a property (a CA policy's
    includeGroups) is one update, and an assignment Graph removed with it is one create.

levels and requests
    Writes go in ``$batch`` envelopes of 20. Restores and creates of the deleted objects depend on
    nothing (level 0); links, updates and the assignment creates need the new ids (level 1). The
    fewest requests are ``ceil(level0 / 20) + ceil(level1 / 20)``; the CA updates (a level 1 write
    too) are counted in the envelopes as well, although Graph paces them (below).

seconds
    Every write costs one resource unit and one unit of the write quota (3,000 per 150 s per app
    and tenant, ``w=3000/150``): ``(writes - 3500) / 350`` s and ``(writes - 3000) / 20`` s at
    least; the CA updates take ``ca_updates - 1`` s; the two levels are two round trips. Apply
    plans first, so the read bound of the tenant (``lower_bound``) is added to the time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

BURST_RU, RU_PER_S = 3500.0, 350.0  # --throttle on: ru=3500/10
CA_PER_S = 1.0  # ca=1/1
DIRECTORY_PAGE, DEFAULT_PAGE, REL_PAGE = 999, 100, 999
EXPAND_PAGE, EXPAND_LINKS = 100, 20  # Graph's caps for $expand on directory objects
BATCH = 20
GET_BY_IDS = 1000  # ids per directoryObjects/getByIds request


@dataclass(frozen=True)
class Collection:
    """How Graph serves one exported kind (simulator collection name as key in COLLECTIONS)."""

    family: str = "ru"  # ru | ca | none
    base_ru: int = 1  # list GET cost before $select/$expand
    directory: bool = False  # a directory collection: $top=999 and $expand allowed
    singleton: bool = False
    relations: tuple[tuple[str, int], ...] = ()  # (relationship, its list GET cost)
    # Lists Graph serves only under each object, never expanded (an application's federated
    # identity credentials): one read per object, batched, (list, its GET cost).
    per_object: tuple[tuple[str, int], ...] = ()


COLLECTIONS: dict[str, Collection] = {
    "conditionalAccessPolicies": Collection(family="ca"),
    "namedLocations": Collection(family="ca"),
    "authenticationContextClassReferences": Collection(family="none"),
    "authenticationStrengthPolicies": Collection(family="none"),
    "groups": Collection(directory=True, relations=(("owners", 3), ("members", 3))),
    "administrativeUnits": Collection(directory=True, relations=(("members", 3),)),
    "applications": Collection(base_ru=2, directory=True, relations=(("owners", 3),),
                               per_object=(("federatedIdentityCredentials", 1),)),
    "servicePrincipals": Collection(directory=True, relations=(("owners", 3), ("appRoleAssignedTo", 1))),
    "oauth2PermissionGrants": Collection(base_ru=2, directory=True),
    "roleDefinitions": Collection(),
    "roleAssignments": Collection(),
    "authenticationMethodsPolicy": Collection(family="none", singleton=True),
    "authenticationMethodConfigurations": Collection(family="none"),
    "authorizationPolicy": Collection(family="none", singleton=True),
    "crossTenantAccessPolicy": Collection(family="none", singleton=True),
    "crossTenantAccessPolicyDefault": Collection(family="none", singleton=True),
    "crossTenantPartners": Collection(family="none", per_object=(("identitySynchronization", 1),)),
    "identitySecurityDefaultsEnforcementPolicy": Collection(family="none", singleton=True),
    "tokenLifetimePolicies": Collection(),
    "claimsMappingPolicies": Collection(),
}


@dataclass
class Content:
    """What the tenant holds: objects per collection and, per (collection, relationship), the link
    count of each object whose relationship is exported (dynamic memberships are not)."""

    counts: dict[str, int]
    links: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    users: int = 0
    referenced_users: int = 0


@dataclass
class Cost:
    requests: int = 0
    round_trips: int = 0
    ru: int = 0
    ca_requests: int = 0
    chain: int = 0  # longest sequential page chain

    def add(self, other: Cost) -> None:
        self.requests += other.requests
        self.round_trips += other.round_trips
        self.ru += other.ru
        self.ca_requests += other.ca_requests
        self.chain = max(self.chain, other.chain)


@dataclass
class Bound:
    requests: int
    round_trips: int
    ru: int
    ca_requests: int
    ru_s: float
    ca_s: float
    critical_s: float
    seconds: float
    per_kind: dict[str, Cost]


def price(base: int, *, select: bool = True, expand: bool = False) -> int:
    """RU of one read, as entragit_sim/router.py `_throttle` prices it ($top >= 20 always)."""
    return max(1, base + (1 if expand else 0) - (1 if select else 0))


def _pages(n: int, page: int) -> int:
    return max(1, math.ceil(n / page))


def _rel_reads(sizes: list[int], cost: int, only_over: int = -1) -> Cost:
    """Own reads of one relationship: `ceil(k/999)` pages for each object with more than
    `only_over` links; batched 20 to a round trip."""
    reads = sum(_pages(k, REL_PAGE) for k in sizes if k > only_over)
    return Cost(requests=reads, round_trips=math.ceil(reads / BATCH), ru=reads * price(cost))


def kind_cost(name: str, c: Collection, content: Content) -> Cost:
    n = content.counts.get(name, 0)
    if c.singleton:
        return _family(c, Cost(1, 1, price(c.base_ru), 0, 1))
    page = DIRECTORY_PAGE if c.directory else DEFAULT_PAGE
    pages = _pages(n, page)
    plain = _family(c, Cost(pages, pages, pages * price(c.base_ru), 0, pages))
    for rel, cost in c.relations:
        plain.add(_rel_reads(content.links.get((name, rel), []), cost))
    options = [plain]
    for i in range(len(c.relations) if c.directory else 0):
        pages = _pages(n, EXPAND_PAGE)
        opt = Cost(pages, pages, pages * price(c.base_ru, expand=True), 0, pages)
        for j, (other, cost) in enumerate(c.relations):
            sizes = content.links.get((name, other), [])
            opt.add(_rel_reads(sizes, cost, only_over=EXPAND_LINKS if i == j else -1))
        options.append(opt)
    best = min(options, key=lambda o: (o.ru, o.requests))
    for _, cost in c.per_object:
        best.add(_family(c, Cost(n, math.ceil(n / BATCH), n * price(cost))))
    return best


def _family(c: Collection, cost: Cost) -> Cost:
    if c.family == "ca":
        cost.ca_requests, cost.ru = cost.requests, 0
    elif c.family == "none":
        cost.ru = 0
    return cost


def user_names_cost(content: Content) -> Cost:
    """Names of referenced users: list all users, or getByIds (3 RU per 1,000 ids, batched)."""
    if not content.referenced_users:
        return Cost()
    pages = _pages(content.users, DIRECTORY_PAGE)
    by_ids = math.ceil(content.referenced_users / GET_BY_IDS)
    listing = Cost(pages, pages, pages * price(2), 0, pages)
    lookup = Cost(by_ids, math.ceil(by_ids / BATCH), by_ids * 3, 0, 1)
    return min((listing, lookup), key=lambda o: (o.ru, o.requests))


def lower_bound(content: Content, latency_s: float,
                collections: dict[str, Collection] | None = None) -> Bound:
    """The bound for `content`; `collections` defaults to every kind an export writes."""
    per_kind = {name: kind_cost(name, c, content) for name, c in (collections or COLLECTIONS).items()}
    per_kind["(referenced user names)"] = user_names_cost(content)
    total = Cost()
    for cost in per_kind.values():
        total.add(cost)
    # First pages and singletons outside the CA family share $batch envelopes of 20.
    firsts = sum(1 for name, c in (collections or COLLECTIONS).items() if c.family != "ca")
    total.round_trips -= firsts - math.ceil(firsts / BATCH)
    ru_s = max(0.0, (total.ru - BURST_RU) / RU_PER_S)
    ca_s = max(0.0, (total.ca_requests - 1) / CA_PER_S)
    critical_s = (total.chain + 1) * latency_s
    seconds = max(ru_s + latency_s, ca_s + latency_s, critical_s)
    return Bound(total.requests, total.round_trips, total.ru, total.ca_requests,
                 ru_s, ca_s, critical_s, seconds, per_kind)


WRITE_BURST, WRITES_PER_S = 3000.0, 20.0  # w=3000/150


@dataclass(frozen=True)
class Restore:
    """What bringing deleted objects back takes, counted from what was deleted (bench/restore.py)."""

    restores: int  # soft-deleted: POST /directory/deletedItems/{id}/restore
    creates: int  # hard-deleted: recreated
    links: int  # $ref adds for the recreated objects' relationships
    updates: int  # objects naming a recreated object in a property (not CA)
    ca_updates: int  # CA policies and named locations naming one (1 request/s)
    dependent_creates: int  # assignments Graph removed with a hard-deleted principal


@dataclass(frozen=True)
class WriteBound:
    writes: int
    requests: int
    ru_s: float
    write_s: float
    ca_s: float
    seconds: float


def restore_bound(r: Restore, latency_s: float) -> WriteBound:
    """The fewest $batch requests and seconds Graph allows for the writes of `r` (module docstring)."""
    level0 = r.restores + r.creates
    level1 = r.links + r.updates + r.dependent_creates + r.ca_updates
    writes = level0 + level1
    requests = math.ceil(level0 / BATCH) + math.ceil(level1 / BATCH)
    ru_s = max(0.0, (writes - BURST_RU) / RU_PER_S)
    write_s = max(0.0, (writes - WRITE_BURST) / WRITES_PER_S)
    ca_s = max(0.0, (r.ca_updates - 1) / CA_PER_S)
    rounds = (1 if level0 else 0) + (1 if level1 else 0)
    seconds = max(ru_s + latency_s, write_s + latency_s, ca_s + latency_s, rounds * latency_s)
    return WriteBound(writes, requests, ru_s, write_s, ca_s, seconds)
