"""Command handler of the engine thread for blending: save the model blended with a second one."""
from __future__ import annotations

from ..errors import UserError
from ..files.modelfile import save_model
from ..messages import Saved, SaveBlend
from ..render.blend_render import make_blend


def save_blend(eng, cmd: SaveBlend) -> None:
    """Write the blend of the open model (the base) with `cmd.other` as a model file whose card names both."""
    if not cmd.path:
        raise UserError("no file name given for the blended model")
    if eng.model.live:
        raise UserError("stop exploring the training run first: a blend needs a fixed base model")
    slot = eng.model
    G, meta = make_blend(slot.render_G, slot.path, slot.meta, cmd.other, cmd.spec)
    save_model(G, cmd.path, meta)
    eng.emit(Saved(cmd.path, "model"))


HANDLERS = {SaveBlend: save_blend}
