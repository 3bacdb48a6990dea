"""Headless Chromium screenshots of dashboards, run with the Superset environment's python (playwright).

Usage: python screenshot.py URL USER PASSWORD OUT_DIR SLUG [SLUG ...]
Logs in through the /login/ form (no guest access), opens each dashboard, waits until every chart has
rendered (no loading spinner left, each chart holds a canvas, svg or table), then saves OUT_DIR/<slug>.png.
The browser is the machine's Chromium (apt), found as `chromium`; nothing is downloaded.
"""

import json
import shutil
import sys
import tempfile

from playwright.sync_api import sync_playwright

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]


def image_stats(path: str) -> dict:
    """How far from blank: grey-level spread and distinct colours (Pillow ships with Superset)."""
    from PIL import Image, ImageStat

    image = Image.open(path).convert("RGB")
    grey = ImageStat.Stat(image.convert("L"))
    return {"width": image.size[0], "height": image.size[1], "stddev": grey.stddev[0],
            "colours": len(image.getcolors(maxcolors=1 << 20) or [])}


def main(url: str, user: str, password: str, out_dir: str, slugs: list[str]) -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=chromium, headless=True, args=FLAGS,
                                                   viewport={"width": 1600, "height": 1200}, locale="zh-CN")
        page = ctx.new_page()
        page.goto(f"{url}/login/", wait_until="domcontentloaded")
        page.fill("[data-test=username-input]", user)
        page.fill("[data-test=password-input]", password)
        page.click("[data-test=login-button]")
        page.wait_for_url(lambda u: "/login" not in u, timeout=60000)
        for slug in slugs:
            page.goto(f"{url}/superset/dashboard/{slug}/?standalone=1", wait_until="domcontentloaded")
            page.wait_for_selector(".dashboard-chart, .chart-container, [data-test=chart-container]",
                                   timeout=120000)
            # every chart finished: no spinner, and each chart slot holds a drawing or a table or a message
            page.wait_for_function(
                """() => {
                    const slots = document.querySelectorAll('[data-test=chart-grid-component], .dashboard-component-chart-holder');
                    if (!slots.length) return false;
                    if (document.querySelector('.loading, [aria-label=loading], [data-test=loading-indicator]')) return false;
                    return [...slots].every(s => s.querySelector('canvas, svg, table, .big_number, .header-line, [role=alert], .ant-empty, .empty-state'));
                }""", timeout=180000, polling=1000)
            page.wait_for_timeout(1500)  # echarts animations settle
            drawn = page.evaluate("""() => [...document.querySelectorAll('.dashboard-component-chart-holder')]
                .filter(s => !s.querySelector('.ant-empty, .empty-state, [role=alert]')
                             && s.querySelector('canvas, table, .header-line, .big_number')).length""")
            page.screenshot(path=f"{out_dir}/{slug}.png", full_page=True)
            print("SHOT " + json.dumps({"slug": slug, "drawn": drawn, **image_stats(f"{out_dir}/{slug}.png")}), flush=True)
        ctx.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
