"""Open an NVIDIA StyleGAN2-ADA / StyleGAN3 pickle in the real window and save a screenshot of every pane.

python docs/screenshots/take_nvidia_screenshots.py MODEL.pkl PREFIX OUTDIR [CLASS]

Writes OUTDIR/PREFIX.png (the window) and OUTDIR/PREFIX-<pane>.png (each pane raised in its dock), e.g.
v2-seeds.png, v3-truncation.png (<pane> = the window's pane keys, app/panes/registry.Pane). CLASS picks a class-conditional model's class in the Seeds pane. Runs under
Xvfb (xvfb-run -s "-screen 0 1600x1000x24": the window opens at its first-launch size) or
QT_QPA_PLATFORM=offscreen (an 800×800 screen); waits for the renders each screenshot shows instead of sleeping.
"""
import sys
import time
from pathlib import Path

from stylegan_studio.app.panes.registry import Pane
from stylegan_studio.engine.contract.latents import Latent

from studio_shot import open_studio  # beside this script

model, prefix, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
label_class = int(sys.argv[4]) if len(sys.argv) > 4 else None
out.mkdir(parents=True, exist_ok=True)
app, bridge, win = open_studio(model, load_bundled=False)
errors = []
bridge.error.connect(lambda ev: errors.append(ev.message))
arrived: dict[str, int] = {}
bridge.render_result.connect(lambda ev: arrived.__setitem__(ev.target, arrived.get(ev.target, 0) + 1))


def wait(cond, seconds=120.0):
    """Process events until `cond()` holds (or give up after `seconds`, saying so)."""
    end = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > end:
            print(f"{prefix}: gave up waiting after {seconds:.0f} s", file=sys.stderr)
            return
        app.processEvents()
        time.sleep(0.02)


def settle(target: str, seconds=120.0):
    """Wait for one more result of `target` than seen now, then let the window paint it."""
    before = arrived.get(target, 0)
    yield
    wait(lambda: arrived.get(target, 0) > before, seconds)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.01)


def act_then_wait(target: str, action):
    steps = settle(target)
    next(steps)
    action()
    next(steps, None)


def shot(name: str):
    path = out / f"{prefix}-{name}.png" if name else out / f"{prefix}.png"
    (win if not name else win.docks[Pane(name)]).grab().save(str(path))
    print("wrote", path)


bridge.start()
win.show()
wait(lambda: (win.state.model is not None and win.viewer.image is not None) or errors, 300)
if win.state.model is None:
    bridge.close()
    sys.exit(f"{prefix}: the model did not open: {errors[0] if errors else 'no answer in 300 s'}")
p = win.panes
if label_class is not None:
    act_then_wait("seeds", lambda: p[Pane.SEEDS].class_box.setValue(label_class))
act_then_wait("seeds", lambda: (p[Pane.SEEDS].entry.setText("0-31"), p[Pane.SEEDS].apply_range()))
mixing = p[Pane.MIXING]
win.docks[Pane.MIXING].raise_()
act_then_wait("mixing", lambda: (mixing.clear(), [mixing.set_source("row", k, Latent(seed=s, c=label_class))
                                                  for k, s in enumerate((3, 7, 12))]))
act_then_wait("mixing", lambda: [mixing.set_source("col", k, Latent(seed=s, c=label_class))
                                 for k, s in enumerate((21, 40))])
act_then_wait("mixing", lambda: mixing.picker.preset("middle"))
if win.state.model.has_noise:
    act_then_wait("viewer", lambda: p[Pane.NOISE].resample(max(p[Pane.NOISE].rows)))
    win.docks[Pane.NOISE].raise_()
    act_then_wait("variation", p[Pane.NOISE].request_variation)
win.docks[Pane.NOISE].raise_()
shot("noise")
win.docks[Pane.TRUNCATION].raise_()
trunc = p[Pane.TRUNCATION]
act_then_wait("truncation-strip", lambda: trunc.psi.setValue(60))
if win.state.model.has_input_transform:
    act_then_wait("viewer", lambda: trunc.set_transform((0.12, -0.05), 20.0))
    wait(lambda: arrived.get("truncation-strip", 0) > 0)
shot("truncation")
win.docks[Pane.INTERPOLATION].raise_()
act_then_wait("interpolation", lambda: p[Pane.INTERPOLATION].to_seed.setValue(40))
shot("interpolation")
win.docks[Pane.DIRECTIONS].raise_()
shot("directions")
win.docks[Pane.LAYERS].raise_()
wait(lambda: arrived.get("layers", 0) > 0 or not p[Pane.LAYERS].layers.count(), 60)
shot("layers")
win.docks[Pane.TRAINING].raise_()
shot("training")
win.docks[Pane.TRUNCATION].raise_()
win.docks[Pane.MIXING].raise_()   # tabbed with Training
for _ in range(20):
    app.processEvents()
    time.sleep(0.01)
shot("seeds")
shot("mixing")
shot("")
print(f"{prefix}: {win.model_label.text()} | {win.statusBar().currentMessage()} | {win.viewer.info.text()}")
for message in errors:
    print(f"{prefix}: error shown: {message}")
bridge.close()
