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
    // Preloading reads the recording's own terminal size before the first frame, so the
    // player takes its shape at once instead of an 80x24 guess.
    preload: true,
    // Long idle stretches (someone reading) are shortened to 2 s on replay.
    idleTimeLimit: 2,
    theme: 'asciinema',
  });
  return { dispose: () => player.dispose() };
}
