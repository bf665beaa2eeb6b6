// Whether the user guide is shown: opened from the start screen, the browser's toolbar or F1.
export const help = $state({ open: false });
