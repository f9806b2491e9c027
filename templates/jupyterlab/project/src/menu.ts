import { IMainMenu } from '@jupyterlab/mainmenu';
import { CommandRegistry } from '@lumino/commands';
import { Menu, MenuBar } from '@lumino/widgets';

/**
 * The main-menu entry every NaaVRE extension adds its commands to. Extensions
 * that declare it in their settings (`jupyter.lab.menus`) and extensions that
 * add it here share it, because both look it up by this id.
 */
export const NAAVRE_MENU_ID = 'naavre-menu';
export const NAAVRE_MENU_LABEL = 'NaaVRE';
export const NAAVRE_MENU_RANK = 10000;

/**
 * The NaaVRE menu of the main menu bar: the one another extension already
 * added, or a new one.
 */
export function naavreMenu(
  mainMenu: IMainMenu,
  commands: CommandRegistry
): Menu {
  // The application's IMainMenu is a MenuBar; its interface only hides that.
  const existing = (mainMenu as unknown as MenuBar).menus.find(
    menu => menu.id === NAAVRE_MENU_ID
  );
  if (existing) {
    return existing;
  }
  const menu = new Menu({ commands });
  menu.id = NAAVRE_MENU_ID;
  menu.title.label = NAAVRE_MENU_LABEL;
  mainMenu.addMenu(menu, true, { rank: NAAVRE_MENU_RANK });
  return menu;
}
