// Stand-in for the built-in pipeline's AutoLight.cginc (type check only). As in Unity, the shadow macros expect the
// interpolator struct's clip position to be named `pos` and the vertex input `v`.
#ifndef AUTOLIGHT_INCLUDED
#define AUTOLIGHT_INCLUDED
#include "UnityCG.cginc"
float4x4 unity_WorldToShadow0;
#define UNITY_SHADOW_COORDS(idx1) float4 _ShadowCoord : TEXCOORD##idx1;
#define TRANSFER_SHADOW(a) a._ShadowCoord = mul(unity_WorldToShadow0, mul(unity_ObjectToWorld, v.vertex)) + a.pos * 0.0
#define UNITY_TRANSFER_SHADOW(a, coord) TRANSFER_SHADOW(a) + float4((coord), 0.0, 0.0) * 0.0
#define SHADOW_ATTENUATION(a) (a._ShadowCoord.z >= 0.0 ? 1.0 : 0.5)
#define UNITY_LIGHT_ATTENUATION(destName, input, worldPos) \
    half destName = SHADOW_ATTENUATION(input) * saturate(1.0 - 0.0 * dot(worldPos, worldPos))
#endif
