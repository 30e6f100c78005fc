"""The benchmark's independent lower bound on a small tenant computed by hand."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench.bound import COLLECTIONS, Content, kind_cost, lower_bound, user_names_cost

# 2,000 groups (one owner each; 1,000 with 5 members, 1,000 with 30), 600 applications with one
# owner, 5 CA policies, 250 named locations, 2,000 users of whom 1,200 are referenced.
CONTENT = Content(
    counts={"groups": 2000, "applications": 600, "conditionalAccessPolicies": 5, "namedLocations": 250},
    links={
        ("groups", "owners"): [1] * 2000,
        ("groups", "members"): [5] * 1000 + [30] * 1000,
        ("applications", "owners"): [1] * 600,
    },
    users=2000,
    referenced_users=1200,
)
KINDS = ["groups", "applications", "conditionalAccessPolicies", "namedLocations"]


def test_groups_expand_owners_and_read_members_apart() -> None:
    # No $expand: 3 pages (1 RU) + 2,000 owners reads + 2,000 members reads (2 RU each) = 8,003 RU.
    # $expand=members: 20 pages + 4,000 owners RU + 1,000 groups over 20 members (2,000 RU) = 6,020.
    # $expand=owners: 20 pages of 100 (1 RU) + 2,000 members reads (4,000 RU) = 4,020 RU: cheapest.
    c = kind_cost("groups", COLLECTIONS["groups"], CONTENT)
    assert (c.requests, c.ru, c.round_trips, c.chain) == (2020, 4020, 20 + 100, 20)


def test_applications_expand_owners_and_read_credentials_per_app() -> None:
    # 6 pages of 100 at 2 RU (base 2, +1 $expand, -1 $select); no app has over 20 owners. Federated
    # identity credentials are listed only below each app: 600 reads at 1 RU, in 30 envelopes.
    c = kind_cost("applications", COLLECTIONS["applications"], CONTENT)
    assert (c.requests, c.ru, c.ca_requests, c.round_trips) == (606, 612, 0, 6 + 30)


def test_ca_family_counts_requests_not_ru() -> None:
    c = kind_cost("namedLocations", COLLECTIONS["namedLocations"], CONTENT)
    assert (c.requests, c.ru, c.ca_requests) == (3, 0, 3)  # 250 at Graph's default page of 100


def test_user_names_listing_beats_get_by_ids() -> None:
    # Listing: 3 pages at 1 RU = 3 RU; getByIds: 2 requests at 3 RU = 6 RU.
    c = user_names_cost(CONTENT)
    assert (c.requests, c.ru) == (3, 3)


def test_total_bound() -> None:
    b = lower_bound(CONTENT, 0.05, {k: COLLECTIONS[k] for k in KINDS})
    # The first pages of groups and applications share one $batch envelope: 163 round trips less one.
    assert (b.requests, b.ru, b.ca_requests, b.round_trips) == (2633, 4635, 4, 162)
    assert b.ru_s == pytest.approx((4635 - 3500) / 350)
    assert b.ca_s == pytest.approx(3.0)  # 4 CA-family requests at 1/s after the first
    assert b.critical_s == pytest.approx(21 * 0.05)  # 20 sequential group pages, then one more
    assert b.seconds == pytest.approx((4635 - 3500) / 350 + 0.05)  # the RU refill, plus one round trip


def test_empty_kinds_still_cost_one_request() -> None:
    b = lower_bound(Content(counts={}), 0.0)
    assert b.requests >= len(COLLECTIONS)
    assert b.ca_requests == 2 and b.seconds == 1.0  # CA policies and named locations, 1 s apart


def test_bench_help() -> None:
    out = subprocess.run([sys.executable, "-m", "bench", "--help"], capture_output=True, text=True, check=True)
    assert "export_full" in out.stdout and "--size" in out.stdout
