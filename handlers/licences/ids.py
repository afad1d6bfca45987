"""The licences capability's action and block ids."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    LICENCES_MANAGE = "licences.manage"  # a link to the dashboard's staff page


class Block(StrEnum):
    LICENCES_SUMMARY = "licences.summary"
    LICENCES_INACTIVE = "licences.inactive"
    LICENCES_ACTIONS = "licences.actions"
    LICENCES_NOTE = "licences.note"
