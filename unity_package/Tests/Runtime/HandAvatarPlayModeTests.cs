// Play-mode tests: run in Unity (Window > General > Test Runner), not on the mono CI (they need the engine).
using System.Collections;
using NUnit.Framework;
using RealHands.Core.Wire;
using UnityEngine;
using UnityEngine.TestTools;

namespace RealHands.Tests
{
    public class HandAvatarPlayModeTests
    {
        [UnityTest]
        public IEnumerator AvatarWithoutBackendStaysHiddenAndClientReportsState()
        {
            var go = new GameObject("RealHands test");
            var client = go.AddComponent<RealHandsClient>();
            client.Connect("tcp://127.0.0.1:1");       // nobody listens there
            var hand = new GameObject("Right").AddComponent<HandAvatar>();
            hand.client = client;
            hand.handedness = Handedness.Right;
            for (int i = 0; i < 30; i++) yield return null;
            Assert.IsNull(hand.Bones, "no rig, no bones");
            Assert.AreEqual(0, client.Stats.Frames);
            Object.Destroy(hand.gameObject);
            Object.Destroy(go);
        }
    }
}
