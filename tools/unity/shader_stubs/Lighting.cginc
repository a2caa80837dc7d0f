// Stand-in for the built-in pipeline's Lighting.cginc / UnityLightingCommon.cginc (type check only).
#ifndef LIGHTING_INCLUDED
#define LIGHTING_INCLUDED
#include "UnityCG.cginc"
half4 _LightColor0;
#endif
