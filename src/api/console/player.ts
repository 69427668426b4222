// asciinema-player and its stylesheet, in a chunk of their own: only the replay page loads
// them, so the rest of the console stays small.
import * as AsciinemaPlayer from 'asciinema-player';
import 'asciinema-player/dist/bundle/asciinema-player.css';

export interface PlayerHandle {
  dispose: () => void;
}

export function mountPlayer(recording: string, element: HTMLElement): PlayerHandle {
  const player = AsciinemaPlayer.create({ data: recording }, element, {
    fit: 'width',
    idleTimeLimit: 2,
    theme: 'asciinema',
  });
  return { dispose: () => player.dispose() };
}
