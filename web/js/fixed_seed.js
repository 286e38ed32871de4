// The Learn node's seed starts at "fixed" when a user adds the node by hand. ComfyUI 0.33 says so
// in the node's schema; older frontends (1.32.9) start every seed at "randomize", which would
// retrain the attribute, and invalidate everything after it, on every queue.
const { app } = window.comfyAPI?.app ?? (await import("../../scripts/app.js"));

const NODES_WITH_FIXED_SEED = new Set(["LearnAttributeFromPair"]);

app.registerExtension({
  name: "latent-svd-edit.fixedSeed",
  nodeCreated(node) {
    if (!NODES_WITH_FIXED_SEED.has(node.comfyClass)) return;
    // Runs before a loaded workflow's own values are applied, so a saved choice still wins.
    const control = node.widgets?.find((w) => w.name === "control_after_generate");
    if (control) control.value = "fixed";
  },
});
