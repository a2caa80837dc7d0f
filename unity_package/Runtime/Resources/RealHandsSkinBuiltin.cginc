// RealHands skin in the built-in render pipeline: the ForwardBase pass (main directional light, ambient light
// probes) and, with REALHANDS_FORWARD_ADD, the ForwardAdd pass (each further light, added).
#ifndef REALHANDS_SKIN_BUILTIN_INCLUDED
#define REALHANDS_SKIN_BUILTIN_INCLUDED

#include "UnityCG.cginc"
#include "Lighting.cginc"
#include "AutoLight.cginc"
#include "RealHandsSkinCore.hlsl"

sampler2D _MainTex;
float4 _MainTex_ST;
half4 _Color;
half _Wrap;
half4 _ScatterColor;
half _Smoothness;
half _Specular;

struct v2f
{
    float4 pos : SV_POSITION;
    float3 worldPos : TEXCOORD0;
    float3 worldNormal : TEXCOORD1;
    float2 uv : TEXCOORD2;
    UNITY_SHADOW_COORDS(3)
    UNITY_FOG_COORDS(4)
};

v2f vert(appdata_base v)
{
    v2f o;
    o.pos = UnityObjectToClipPos(v.vertex);
    o.worldPos = mul(unity_ObjectToWorld, v.vertex).xyz;
    o.worldNormal = UnityObjectToWorldNormal(v.normal);
    o.uv = TRANSFORM_TEX(v.texcoord, _MainTex);
    TRANSFER_SHADOW(o);
    UNITY_TRANSFER_FOG(o, o.pos);
    return o;
}

half4 frag(v2f i) : SV_Target
{
    RealHandsFade(_Color.a, i.pos.xy);
    RealHandsSkinSurface s;
    s.albedo = tex2D(_MainTex, i.uv).rgb * _Color.rgb;
    s.normal = normalize(i.worldNormal);
    s.view = normalize(UnityWorldSpaceViewDir(i.worldPos));
    s.wrap = _Wrap;
    s.scatter = _ScatterColor.rgb;
    s.smoothness = _Smoothness;
    s.specular = _Specular;
    UNITY_LIGHT_ATTENUATION(attenuation, i, i.worldPos);
    half3 light = normalize(UnityWorldSpaceLightDir(i.worldPos));
    half3 color = RealHandsSkinLight(s, light, _LightColor0.rgb, attenuation);
#ifdef REALHANDS_FORWARD_ADD
    UNITY_APPLY_FOG_COLOR(i.fogCoord, color, half4(0, 0, 0, 0));
#else
    color += ShadeSH9(half4(s.normal, 1.0)) * s.albedo;
    UNITY_APPLY_FOG(i.fogCoord, color);
#endif
    return half4(color, 1.0);
}

#endif
