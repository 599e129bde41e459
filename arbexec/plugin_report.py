"""What ``arbexec plugins`` shows: each plugin, its description, what it provides, each
rule's parameters and each venue's capabilities.

A person choosing a venue or writing a policy should not have to read a plugin's source to
learn which rules exist, what they take, or whether a venue can cancel everything at once.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

from arbexec.plugins import PluginHost, PluginRecord


def _summary(distribution: str) -> str:
    try:
        return metadata.metadata(distribution)["Summary"] or ""
    except metadata.PackageNotFoundError:
        return ""


def capabilities_dict(capabilities: Any) -> dict[str, Any]:
    return {
        "time_in_force": sorted(t.value.lower() for t in capabilities.time_in_force),
        "post_only": capabilities.post_only,
        "batch_orders": capabilities.batch_orders,
        "cancel_all": capabilities.cancel_all,
        "order_stream": capabilities.order_stream,
        "amend": capabilities.amend,
        "market_orders": capabilities.market_orders,
    }


def _item(host: PluginHost, kind: str, name: str) -> dict[str, Any]:
    spec = host.require(kind, name)
    item: dict[str, Any] = {"name": name, "description": spec.description}
    if kind == "risk_rule":
        item["parameters"] = dict(spec.parameters)
    if kind == "exchange":
        found = spec.capabilities
        try:
            item["capabilities"] = None if found is None else capabilities_dict(found())
        except Exception as exc:  # a plugin's listing must not break the command
            item["capabilities"] = None
            item["capabilities_error"] = f"{type(exc).__name__}: {exc}"
    return item


def report(host: PluginHost) -> list[dict[str, Any]]:
    """One entry per plugin: the record, its description and the details of each name."""
    out = []
    for record in host.records():
        entry = record.as_dict()
        entry["description"] = _summary(record.distribution)
        entry["details"] = {kind: [_item(host, kind, name) for name in names]
                            for kind, names in sorted(record.provides.items())}
        out.append(entry)
    return out


_LABELS = {"exchange": "venue", "risk_rule": "risk rule", "sink": "sink", "source": "source"}


def _capability_words(caps: dict[str, Any]) -> str:
    words = ["time in force " + ", ".join(caps["time_in_force"])]
    words += [label for key, label in (("post_only", "post-only"), ("cancel_all", "cancel-all"),
                                       ("batch_orders", "batch orders"),
                                       ("order_stream", "order stream"), ("amend", "amend"),
                                       ("market_orders", "market orders")) if caps[key]]
    missing = [label for key, label in (("cancel_all", "no cancel-all"),
                                        ("order_stream", "no order stream"))
               if not caps[key]]
    return "; ".join(words + missing)


def lines(entries: list[dict[str, Any]], records: list[PluginRecord]) -> list[str]:
    """The text form: a heading line per plugin, then one line per name it provides."""
    out: list[str] = []
    for entry in entries:
        out.append(f"{entry['distribution']} {entry['version']}  [{entry['name']}]  "
                   f"{entry['status']}")
        if entry["description"]:
            out.append(f"  {entry['description']}")
        if entry["error"]:
            out.append(f"    {entry['error']}")
        for kind, items in entry["details"].items():
            for item in items:
                text = f"  {_LABELS.get(kind, kind)} {item['name']}"
                out.append(text + (f": {item['description']}" if item["description"] else ""))
                for name, help in sorted((item.get("parameters") or {}).items()):
                    out.append(f"      {name}: {help}" if help else f"      {name}")
                if item.get("capabilities"):
                    out.append("      can: " + _capability_words(item["capabilities"]))
    return out
