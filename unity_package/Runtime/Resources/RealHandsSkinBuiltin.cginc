// RealHands skin in the built-in render pipeline: the ForwardBase pass (main directional light with its shadows,
// ambient light probes), with REALHANDS_FORWARD_ADD the ForwardAdd pass (each further light, added), and with
// REALHANDS_SHADOW_CASTER the shadow caster (also the camera's depth texture). Every pass applies the screen-door
// fade, so a fading hand's shadow and depth fade with it. Single-pass instanced stereo (XR) throughout.
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

#if defined(REALHANDS_SHADOW_CASTER)

struct v2f
{
    V2F_SHADOW_CASTER;
    UNITY_VERTEX_OUTPUT_STEREO
};

v2f vert(appdata_base v)
{
    v2f o;
    UNITY_SETUP_INSTANCE_ID(v);
    UNITY_INITIALIZE_VERTEX_OUTPUT_STEREO(o);
    TRANSFER_SHADOW_CASTER_NORMALOFFSET(o)
    return o;
}

half4 frag(v2f i) : SV_Target
{
    RealHandsFade(_Color.a, i.pos.xy);
    SHADOW_CASTER_FRAGMENT(i)
}

#else

struct v2f
{
    float4 pos : SV_POSITION;
    float3 worldPos : TEXCOORD0;
    float3 worldNormal : TEXCOORD1;
    float2 uv : TEXCOORD2;
    UNITY_SHADOW_COORDS(3)
    UNITY_FOG_COORDS(4)
    UNITY_VERTEX_OUTPUT_STEREO
};

v2f vert(appdata_full v)
{
    v2f o;
    UNITY_SETUP_INSTANCE_ID(v);
    UNITY_INITIALIZE_VERTEX_OUTPUT_STEREO(o);
    o.pos = UnityObjectToClipPos(v.vertex);
    o.worldPos = mul(unity_ObjectToWorld, v.vertex).xyz;
    o.worldNormal = UnityObjectToWorldNormal(v.normal);
    o.uv = TRANSFORM_TEX(v.texcoord, _MainTex);
    UNITY_TRANSFER_SHADOW(o, v.texcoord1.xy);
    UNITY_TRANSFER_FOG(o, o.pos);
    return o;
}

half4 frag(v2f i) : SV_Target
{
    UNITY_SETUP_STEREO_EYE_INDEX_POST_VERTEX(i);  // the eye's shadow slice and camera position
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
    #if defined(REALHANDS_FORWARD_ADD)
        UNITY_APPLY_FOG_COLOR(i.fogCoord, color, half4(0, 0, 0, 0));
    #else
        color += ShadeSH9(half4(s.normal, 1.0)) * s.albedo;
        UNITY_APPLY_FOG(i.fogCoord, color);
    #endif
    return half4(color, 1.0);
}

#endif

#endif
