import type { IconName } from "../ui/icons";

/** One entry of a row's menu. */
export interface MenuItem {
  label: string;
  icon: IconName;
  run: () => void;
  disabled?: boolean;
}
