"""Who may read and change which data: one table for every service.

A guard belongs to the data, not to the service that serves it: sampling's copy of the
inspector directory is guarded like the registry's own, scoring's copy of the entity
directory like the registry's. Every ``/v1`` route depends on exactly one of the guards
below (a test walks the routes of all four services), and the README's role table is
checked against ``ACCESS``. Admins pass every guard; the jurisdiction (the token's
region) still applies to them, and province-wide acts need a province-level token
(``shared.auth.ensure_province_level``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from shared.auth import Principal, Role, require_roles


@dataclass(frozen=True)
class Guard:
    name: str
    data: str  # what it guards, as the README's table says it
    roles: tuple[Role, ...]  # besides admin


DIRECTORY_READ = Guard(
    "directory_read",
    "inspection objects, records, relations, tags and import jobs; every service's copy "
    "of the objects",
    (
        Role.REGISTRY_CLERK,
        Role.SERVICE,
        Role.CREDIT_OFFICER,
        Role.BUSINESS_OFFICER,
        Role.INSPECTOR,
    ),
)
DIRECTORY_WRITE = Guard(
    "directory_write",
    "changes to objects, records, relations, tags, inspectors; imports",
    (Role.REGISTRY_CLERK, Role.SERVICE),
)
# Avoidance declarations name relatives and related firms: for those who keep the
# directory and those who assign inspectors, not for the colleagues it lists.
INSPECTOR_DIRECTORY_READ = Guard(
    "inspector_directory_read",
    "the inspector directory with its avoidance declarations; every service's copy of it",
    (Role.REGISTRY_CLERK, Role.SERVICE, Role.CREDIT_OFFICER, Role.BUSINESS_OFFICER),
)
# Classes are an internal reference (内部参考): the credit department only.
CREDIT = Guard(
    "credit",
    "risk classes, scores, indicator models, runs, warnings, analysis, audit log, national export",
    (Role.CREDIT_OFFICER,),
)

# Replaying a service's events and checking projections against their owners: the
# system administrator's, since a replay loads every consumer (shared.replay).
OPERATIONS = Guard(
    "operations", "event replays and resync checks of every service's projections", ()
)

ACCESS: tuple[Guard, ...] = (
    DIRECTORY_READ,
    DIRECTORY_WRITE,
    INSPECTOR_DIRECTORY_READ,
    CREDIT,
    OPERATIONS,
)


def guarded(guard: Guard) -> object:
    """The FastAPI dependency of ``guard``, marked with it so that tests can tell which
    guard a route has."""
    dependency = require_roles(*guard.roles)
    dependency.guard = guard  # type: ignore[attr-defined]
    return Depends(dependency)


DirectoryReader = Annotated[Principal, guarded(DIRECTORY_READ)]
DirectoryWriter = Annotated[Principal, guarded(DIRECTORY_WRITE)]
InspectorDirectoryReader = Annotated[Principal, guarded(INSPECTOR_DIRECTORY_READ)]
CreditOfficer = Annotated[Principal, guarded(CREDIT)]
Operator = Annotated[Principal, guarded(OPERATIONS)]
