"""What a 5 MB photo costs a vision battle: upload to 201, upload to first token, and the arena
process's peak memory, against the same battle without the image.

A real arena server (`arena serve`, one worker, SQLite) and the loopback fake upstream run as
subprocesses. The photo is a camera-sized JPEG (4032×3024, noisy, so it does not compress away)
of just under 5 MiB, with EXIF GPS tags; the voter posts it as a data: URI in the JSON body, as
the page's script does. The arena checks it, turns it upright, scales it to `image_max_side`,
re-encodes it without metadata, stores it once and sends it to both models as a data: URI.

Peak memory is the server's VmHWM (Linux's high-water mark of resident memory) after each run,
so it includes everything the request needed at its busiest moment.

Run: `python benchmarks/images.py [--runs 5]`.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from pathlib import Path

import httpx
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import arena_process, fake_upstream
from tests.image_samples import GPS_IFD, data_uri

MODELS = {"eye": "bench-eye-vl", "lens": "bench-lens-vl"}


def photos(runs: int, target: int = 5 * 1024 * 1024 - 64 * 1024) -> list[bytes]:
    """`runs` different 4032×3024 JPEGs just under `target` bytes, with EXIF GPS tags."""
    base = Image.effect_noise((4032, 3024), 40).convert("RGB")
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)}
    quality = 95
    while quality > 20:
        out = io.BytesIO()
        base.save(out, "JPEG", quality=quality, exif=exif)
        if out.tell() <= target:
            break
        quality -= 5
    out_list = []
    for i in range(runs):  # one changed pixel each: nothing is deduplicated
        im = base.copy()
        im.putpixel((i, 0), (i, i, i))
        out = io.BytesIO()
        im.save(out, "JPEG", quality=quality, exif=exif)
        out_list.append(out.getvalue())
    return out_list


def peak_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def battle(client: httpx.Client, body: dict[str, object]) -> tuple[float, float]:
    """(seconds to the 201, seconds to the first token) of one battle, from the POST."""
    started = time.perf_counter()
    r = client.post("/api/battles", json=body)
    assert r.status_code == 201, r.text
    created = time.perf_counter() - started
    first = float("nan")
    with client.stream("GET", f"/api/battles/{r.json()['battle_id']}/stream") as events:
        for line in events.iter_lines():
            if line.startswith("event: delta") and first != first:
                first = time.perf_counter() - started
    return created, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    jpegs = photos(args.runs)
    uri = data_uri(jpegs[0], "image/jpeg")
    print(
        f"photo: {len(jpegs[0]) / 1e6:.2f} MB JPEG 4032×3024 with EXIF GPS, "
        f"{len(uri) / 1e6:.2f} MB as a data: URI"
    )
    with (
        fake_upstream("--token-delay", "0.005") as upstream,
        arena_process(upstream, MODELS, vision=True) as (url, proc),
        httpx.Client(base_url=url, timeout=120) as client,
    ):
        battle(client, {"prompt": "warm up"})
        rss0, hwm0 = peak_mb(proc.pid)
        text = [battle(client, {"prompt": f"text {i}"}) for i in range(args.runs)]
        _, hwm_text = peak_mb(proc.pid)
        image = [
            battle(client, {"prompt": f"photo {i}", "images": [data_uri(jpeg, "image/jpeg")]})
            for i, jpeg in enumerate(jpegs)
        ]
        rss1, hwm1 = peak_mb(proc.pid)
        sent = httpx.get(f"{upstream.rsplit('/v1', 1)[0]}/_fake/requests").json()
        last = [r for r in sent if r.get("path", "").endswith("/chat/completions")][-1]
        body_bytes = len(json.dumps(last.get("body", {})))

    def med(xs: list[float]) -> float:
        return statistics.median(xs) * 1000

    print(f"runs: {args.runs} of each, one worker, SQLite")
    print(
        f"text battle:  201 in {med([c for c, _ in text]):.0f} ms, "
        f"first token {med([f for _, f in text]):.0f} ms (median)"
    )
    print(
        f"photo battle: 201 in {med([c for c, _ in image]):.0f} ms, "
        f"first token {med([f for _, f in image]):.0f} ms (median, from the start of the upload)"
    )
    print(f"upstream request body with the normalised photo: {body_bytes / 1e6:.2f} MB")
    print(
        f"server memory: RSS {rss0:.0f} MB before, {rss1:.0f} MB after; peak {hwm0:.0f} MB "
        f"before, {hwm_text:.0f} MB after text battles, {hwm1:.0f} MB after photo battles "
        f"(+{hwm1 - hwm_text:.0f} MB)"
    )


if __name__ == "__main__":
    main()
