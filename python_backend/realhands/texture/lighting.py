"""Light separated from skin: the shading of one view estimated from the hand itself, divided out of its colours.

A Lambertian surface under distant light shows colour = albedo x shading(normal), and the shading of any distant
lighting is close to a second-order spherical-harmonic function of the normal (Ramamoorthi & Hanrahan, 2001: nine
coefficients per colour channel). Skin's albedo varies little at the scale of a hand compared with the shading a
desk lamp casts across it, so a low-order fit of the observed colours (linear light) over the texels' normals is
mostly shading; the colours divided by it are the albedo, up to one gain per channel (absorbed in the fit's mean:
the result keeps the view's average colour). Higher orders are damped (a ridge), because one view sees only
the normals facing it and a free quadratic would explain albedo as light.

    albedo = remove_shading(colour_srgb, normals, weight)   # (N,3) in [0,1], (N,3) unit, (N,) -> (N,3)
"""
from __future__ import annotations

import numpy as np

#: spherical-harmonic order of the shading model (1: ambient + one direction; 2: Ramamoorthi-Hanrahan's nine)
SH_ORDER = 2
#: ridge on the coefficients, per order (0: the constant term is free), relative to the data's weight
SH_RIDGE = (0.0, 0.01, 0.1)
#: the shading is clipped below this fraction of its mean (deep shadow: the albedo there is not recoverable)
MIN_SHADING = 0.2
#: texels needed for a fit; fewer keep their colour as it is
MIN_TEXELS = 50


def sh_basis(normals: np.ndarray, order: int = SH_ORDER) -> np.ndarray:
    """(N,3) unit normals -> (N, (order+1)^2) real spherical-harmonic basis values (constants dropped: a fit
    absorbs them)."""
    x, y, z = np.asarray(normals, np.float64).T
    cols = [np.ones_like(x)]
    if order >= 1:
        cols += [y, z, x]
    if order >= 2:
        cols += [x * y, y * z, 3 * z * z - 1, x * z, x * x - y * y]
    return np.stack(cols, 1)


def _orders(order: int) -> np.ndarray:
    return np.concatenate([np.full(2 * k + 1, k) for k in range(order + 1)])


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)


def estimate_shading(colour_linear: np.ndarray, normals: np.ndarray, weight: np.ndarray,
                     order: int = SH_ORDER) -> np.ndarray | None:
    """((order+1)^2, 3) coefficients of the weighted, ridge-damped least-squares fit of the colours (N,3), linear
    light, as SH functions of the normals (N,3); None with fewer than MIN_TEXELS texels."""
    w = np.asarray(weight, np.float64)
    ok = (w > 0) & np.isfinite(colour_linear).all(1) & np.isfinite(normals).all(1)
    if ok.sum() < MIN_TEXELS:
        return None
    Y, c, w = sh_basis(normals[ok], order), np.asarray(colour_linear, np.float64)[ok], w[ok]
    A = (Y * w[:, None]).T @ Y
    ridge = np.asarray(SH_RIDGE, np.float64)[_orders(order)] * w.sum()
    return np.linalg.solve(A + np.diag(ridge), (Y * w[:, None]).T @ c)


def remove_shading(colour: np.ndarray, normals: np.ndarray, weight: np.ndarray,
                   order: int = SH_ORDER) -> np.ndarray:
    """Colours (N,3) sRGB in [0,1] of texels with unit normals (N,3, in the camera's frame) seen with weights (N,)
    -> their albedo (N,3) sRGB in [0,1]: the colours divided by the view's fitted shading, rescaled so that the
    weighted mean colour stays. Returns the colours unchanged when too few texels are seen for a fit."""
    lin = srgb_to_linear(np.asarray(colour, np.float64))
    coef = estimate_shading(lin, normals, weight, order)
    if coef is None:
        return np.asarray(colour, np.float32)
    shading = sh_basis(normals, order) @ coef                          # (N,3): albedo gain x shading
    w = np.clip(np.asarray(weight, np.float64), 0.0, None)
    mean = (shading * w[:, None]).sum(0) / max(w.sum(), 1e-12)         # the view's average: kept in the albedo
    shading = np.maximum(shading, MIN_SHADING * np.maximum(mean, 1e-6))
    return linear_to_srgb(lin * (mean / shading)).astype(np.float32)
