"""Checkpoints with random weights of REAL architectures, built through ComfyUI's own classes.

No weights are downloaded: the UNet config is the exact one ComfyUI's model detection derives
from the real file (the tables in `comfy.model_detection.unet_config_from_diffusers_unet`),
`comfy.model_detection.model_config_from_unet_config` picks the supported-model class, its
`get_model` / `clip_target` build the UNet and text encoder(s), the VAE is the SD/SDXL
AutoencoderKL; every parameter is initialised (seeded, small fan-in scaled std, so sampling stays
finite), and `comfy.sd.save_checkpoint` writes the file under the real file name.
`CheckpointLoaderSimple` then detects the architecture from the keys as it would for the real one.

Files are cached outside the clone in `$LSE_CACHE/checkpoints` and rebuilt only when the recipe
changes (a stamp file records it). Building runs in a subprocess (`python checkpoints.py NAME`):
the test process never imports ComfyUI and the memory is returned when it exits.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

RECIPE_VERSION = 1
SEED = 20250204
# Weights are stored in fp16 (halves file size and load time; ComfyUI upcasts on CPU).
STORE_DTYPE = "float16"


@dataclass(frozen=True)
class CheckpointSpec:
    """One real architecture: the file name workflows name, and ComfyUI's own config table key."""

    filename: str
    arch: str  # key of the table in comfy.model_detection.unet_config_from_diffusers_unet
    model_class: str  # comfy.supported_models class detection must pick
    native_size: int  # the resolution the real model was trained at (pixels)
    approx_params: float  # total parameters, for expectations in tests


SPECS: dict[str, CheckpointSpec] = {
    "v2-1_512-ema-pruned.safetensors": CheckpointSpec(
        "v2-1_512-ema-pruned.safetensors", "SD21", "SD20", 512, 1.30e9),
    "sd_xl_base_1.0.safetensors": CheckpointSpec(
        "sd_xl_base_1.0.safetensors", "SDXL", "SDXL", 1024, 3.47e9),
}


def cache_dir() -> Path:
    root = os.environ.get("LSE_CACHE") or str(Path.home() / ".cache" / "latent-svd-edit")
    path = Path(root) / "checkpoints"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _recipe_stamp(spec: CheckpointSpec) -> str:
    src = Path(__file__).read_text()
    text = json.dumps([RECIPE_VERSION, SEED, STORE_DTYPE, spec.arch, spec.filename,
                       hashlib.sha256(src.encode()).hexdigest()[:8]])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def ensure_checkpoint(filename: str, python: str | None = None,
                      comfyui: str | None = None, timeout: float = 1800) -> Path:
    """Path to the cached checkpoint `filename`, building it in a subprocess when missing/stale."""
    spec = SPECS[filename]
    path = cache_dir() / filename
    stamp = path.with_suffix(".stamp.json")
    want = _recipe_stamp(spec)
    if path.is_file() and stamp.is_file():
        if json.loads(stamp.read_text()).get("recipe") == want:
            return path
    python = python or os.environ.get("LSE_VENV", "") + "/bin/python"
    if not Path(python).is_file():
        python = sys.executable
    comfyui = comfyui or os.environ["COMFYUI_PATH"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["COMFYUI_PATH"] = comfyui
    proc = subprocess.run([python, __file__, filename, str(path)], env=env, timeout=timeout,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"building {filename} failed (rc {proc.returncode}):\n"
                           f"{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    report["recipe"] = want
    stamp.write_text(json.dumps(report, indent=1))
    return path


def build_report(filename: str) -> dict[str, object]:
    """What the last build measured (seconds, bytes, parameters), from the stamp file."""
    return json.loads((cache_dir() / filename).with_suffix(".stamp.json").read_text())


# --- the builder (runs in its own process, ComfyUI importable) -------------------------------

def _import_comfy() -> None:
    comfy = os.environ["COMFYUI_PATH"]
    # ComfyUI's top-level `nodes`, `utils` must win over anything else on the path.
    sys.path[:] = [comfy] + [p for p in sys.path if Path(p or ".").resolve() != Path(comfy)]
    import comfy.cli_args  # noqa: PLC0415

    comfy.cli_args.args.cpu = True  # before comfy.model_management is imported


def _init_module(module: object, generator: object) -> int:
    """Seeded init of every parameter: biases 0, 1-D scales 1, matrices N(0, (0.5/sqrt(fan_in))^2).

    ComfyUI's layers allocate with torch.empty, so skipping this leaves garbage (NaN outputs).
    Returns the number of parameters.
    """
    import torch  # noqa: PLC0415

    count = 0
    with torch.no_grad():
        for name, p in module.named_parameters():  # type: ignore[attr-defined]
            count += p.numel()
            if p.ndim <= 1:
                if name.endswith("bias") or "bias" in name.rsplit(".", 1)[-1]:
                    p.zero_()
                else:
                    p.fill_(1.0)
                continue
            fan_in = p[0].numel()
            tmp = torch.empty(p.shape, dtype=torch.float32)
            tmp.normal_(0.0, 0.5 / fan_in ** 0.5, generator=generator)
            p.copy_(tmp.to(p.dtype))
            del tmp
    return count


def _header_state_dict(path: Path) -> dict[str, object]:
    """Meta tensors with the file's key names and shapes (reads only the safetensors header)."""
    import struct  # noqa: PLC0415

    import torch  # noqa: PLC0415

    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    return {k: torch.empty(v["shape"], device="meta") for k, v in header.items()}


def detect(path: Path) -> dict[str, object]:
    """What ComfyUI's model detection makes of a checkpoint file (header only, no weights read)."""
    import comfy.model_detection as md  # noqa: PLC0415

    sd = _header_state_dict(path)
    prefix = md.unet_prefix_from_state_dict(sd)
    cfg = md.model_config_from_unet(sd, prefix)
    return {"model_class": type(cfg).__name__ if cfg else None,
            "unet_config": {k: v for k, v in (cfg.unet_config if cfg else {}).items()
                            if k != "dtype"},
            "keys": len(sd)}


def build(filename: str, out: Path) -> dict[str, object]:
    _import_comfy()
    import comfy.model_detection as md  # noqa: PLC0415
    import comfy.model_patcher  # noqa: PLC0415
    import comfy.sd  # noqa: PLC0415
    import torch  # noqa: PLC0415
    from comfy.ldm.models.autoencoder import AutoencoderKL  # noqa: PLC0415

    spec = SPECS[filename]
    dtype = getattr(torch, STORE_DTYPE)
    t0 = time.perf_counter()
    gen = torch.Generator().manual_seed(SEED)

    tables = _real_unet_configs(md, dtype)
    unet_config = tables[spec.arch]
    model_config = md.model_config_from_unet_config(unet_config)
    if type(model_config).__name__ != spec.model_class:
        raise RuntimeError(f"{spec.arch} config matched {type(model_config).__name__}")
    model_config.set_inference_dtype(dtype, None)
    model = model_config.get_model({})
    n_unet = _init_module(model.diffusion_model, gen)
    patcher = comfy.model_patcher.ModelPatcher(model, torch.device("cpu"), torch.device("cpu"))

    clip = comfy.sd.CLIP(model_config.clip_target(), model_options={"dtype": dtype})
    n_clip = _init_module(clip.cond_stage_model, gen)

    ddconfig = {"double_z": True, "z_channels": 4, "resolution": 256, "in_channels": 3,
                "out_ch": 3, "ch": 128, "ch_mult": [1, 2, 4, 4], "num_res_blocks": 2,
                "attn_resolutions": [], "dropout": 0.0}
    vae_module = AutoencoderKL(ddconfig=ddconfig, embed_dim=4)
    n_vae = _init_module(vae_module, gen)
    vae = comfy.sd.VAE(sd={k: v.to(dtype) for k, v in vae_module.state_dict().items()})
    del vae_module
    t_init = time.perf_counter() - t0

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    comfy.sd.save_checkpoint(str(tmp), patcher, clip, vae,
                             metadata={"latent_svd_edit_test": "random weights, not a model"})
    os.replace(tmp, out)
    t_total = time.perf_counter() - t0
    found = detect(out)
    if found["model_class"] != spec.model_class:
        raise RuntimeError(f"ComfyUI detects {found['model_class']}, expected {spec.model_class}")
    return {"file": filename, "arch": spec.arch, "model_class": found["model_class"],
            "params_unet": n_unet, "params_text": n_clip, "params_vae": n_vae,
            "bytes": out.stat().st_size, "init_s": round(t_init, 1),
            "build_s": round(t_total, 1), "keys": found["keys"]}


def _real_unet_configs(md: object, dtype: object) -> dict[str, dict[str, object]]:
    """The real UNet configs, verbatim from ComfyUI 0.3.75's table in
    comfy.model_detection.unet_config_from_diffusers_unet (what detection yields for the real
    v2-1_512-ema-pruned and sd_xl_base_1.0 files). `build` re-detects the saved file to prove it.
    """
    sd21 = {"use_checkpoint": False, "image_size": 32, "out_channels": 4,
            "use_spatial_transformer": True, "legacy": False, "adm_in_channels": None,
            "dtype": dtype, "in_channels": 4, "model_channels": 320,
            "num_res_blocks": [2, 2, 2, 2], "transformer_depth": [1, 1, 1, 1, 1, 1, 0, 0],
            "channel_mult": [1, 2, 4, 4], "transformer_depth_middle": 1,
            "use_linear_in_transformer": True, "context_dim": 1024, "num_head_channels": 64,
            "transformer_depth_output": [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0],
            "use_temporal_attention": False, "use_temporal_resblock": False}
    sdxl = {"use_checkpoint": False, "image_size": 32, "out_channels": 4,
            "use_spatial_transformer": True, "legacy": False, "num_classes": "sequential",
            "adm_in_channels": 2816, "dtype": dtype, "in_channels": 4, "model_channels": 320,
            "num_res_blocks": [2, 2, 2], "transformer_depth": [0, 0, 2, 2, 10, 10],
            "channel_mult": [1, 2, 4], "transformer_depth_middle": 10,
            "use_linear_in_transformer": True, "context_dim": 2048, "num_head_channels": 64,
            "transformer_depth_output": [0, 0, 0, 2, 2, 2, 10, 10, 10],
            "use_temporal_attention": False, "use_temporal_resblock": False}
    return {"SD21": sd21, "SDXL": sdxl}


if __name__ == "__main__":
    name, dest = sys.argv[1], Path(sys.argv[2])
    result = build(name, dest)
    print(json.dumps(result))
