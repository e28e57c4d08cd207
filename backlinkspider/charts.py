"""``backlinks report --chart FILE.png``: a backlink profile over time, drawn with matplotlib.

Three panels: live referring domains a day, new and lost backlinks a day (from
``events``), and the live link-type split. The Agg backend draws without a
display, so it works over SSH and in cron jobs.
"""

from __future__ import annotations

from pathlib import Path

from backlinkspider.store import LINK_TYPES


def draw(profile: dict, history: dict, path: str | Path) -> Path:
    """Write the chart of ``profile`` and ``store.history`` to ``path`` (PNG, SVG, PDF by suffix)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, (ref_ax, change_ax, type_ax) = plt.subplots(
        3, 1, figsize=(10, 10), gridspec_kw={"height_ratios": [3, 3, 2]}, layout="constrained"
    )
    change_ax.sharex(ref_ax)
    fig.suptitle(f"Backlink profile of {profile['domain']}")

    days = [row["day"] for row in history["referring_domains"]]
    ref_ax.step(
        days, [row["referring_domains"] for row in history["referring_domains"]], where="post", color="tab:blue"
    )
    ref_ax.set_title("Live referring domains", loc="left")
    ref_ax.set_ylim(bottom=0)

    events = history["events"]
    when = [row["day"] for row in events]
    change_ax.bar(when, [row["new"] + row["recovered"] for row in events], color="tab:green", label="new and recovered")
    change_ax.bar(when, [-row["lost"] for row in events], color="tab:red", label="lost")
    change_ax.axhline(0, color="black", linewidth=0.5)
    change_ax.set_title("Backlinks gained and lost a day", loc="left")
    change_ax.legend(loc="upper left")
    for ax in (ref_ax, change_ax):
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
        ax.grid(axis="y", alpha=0.3)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))

    counts = [profile["link_types"][t] for t in LINK_TYPES]
    bars = type_ax.barh(LINK_TYPES, counts, color=["tab:green", "tab:gray", "tab:orange", "tab:purple"])
    type_ax.bar_label(bars, padding=3)
    type_ax.invert_yaxis()
    type_ax.set_title(f"Live backlinks by link type ({profile['backlinks']['live']:,} live)", loc="left")

    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
