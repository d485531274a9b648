import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { type Static, Task, type TaskContext, Type } from '@plugboard/core';
import { writeFileAtomically } from '../src/media-files.ts';
import { ActionBookPlugin, type Book } from '../src/plugin-classes.ts';
import { WRITE_MEDIA } from '../src/users.ts';

const CoverArgs = Type.Object({
  sizes: Type.Array(Type.Integer({ minimum: 16, maximum: 1024 }), {
    minItems: 1,
    maxItems: 8,
    uniqueItems: true,
    default: [64, 128, 256],
    description: 'Thumbnail widths in pixels; each becomes its own task',
  }),
  format: Type.Union([Type.Literal('svg'), Type.Literal('ppm')], {
    default: 'svg',
    description: 'svg: vector with the title; ppm: a plain bitmap any image viewer opens',
  }),
});
type CoverArgs = Static<typeof CoverArgs>;

interface CoverInput {
  readonly bookId: string;
  readonly title: string;
  readonly author: string;
  readonly folder: string;
  readonly storagePath: string;
  readonly width: number;
  readonly format: CoverArgs['format'];
}

/** A thumbnail that was written. */
export interface CoverResult {
  /** The file, relative to the book storage path. */
  readonly file: string;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
}

/** Covers are 2:3, like most books. */
const heightOf = (width: number) => Math.round(width * 1.5);

/** Two colours that belong to one title: the same book always gets the same cover. */
function palette(title: string): { background: [number, number, number]; band: [number, number, number] } {
  const [r = 0, g = 0, b = 0] = createHash('sha256').update(title).digest();
  const background: [number, number, number] = [64 + (r % 128), 64 + (g % 128), 64 + (b % 128)];
  return { background, band: background.map((c) => 255 - c) as [number, number, number] };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** An SVG cover: the colours of the title, a band with the title and the author. */
function svgCover(input: CoverInput): string {
  const width = input.width;
  const height = heightOf(width);
  const { background, band } = palette(input.title);
  const fontSize = Math.max(6, Math.round(width / 10));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
  <rect width="${width}" height="${height}" fill="rgb(${background.join(',')})"/>
  <rect y="${Math.round(height * 0.3)}" width="${width}" height="${Math.round(height * 0.25)}" fill="rgb(${band.join(',')})"/>
  <text x="50%" y="${Math.round(height * 0.44)}" font-family="serif" font-size="${fontSize}" text-anchor="middle">${escapeXml(input.title)}</text>
  <text x="50%" y="${Math.round(height * 0.85)}" font-family="sans-serif" font-size="${Math.max(5, Math.round(fontSize * 0.7))}" text-anchor="middle">${escapeXml(input.author)}</text>
</svg>
`;
}

/** A binary PPM (P6) cover in the title's colours: a band across the cover and a darker spine. */
function ppmCover(input: CoverInput, signal: AbortSignal): Buffer {
  const width = input.width;
  const height = heightOf(width);
  const { background, band } = palette(input.title);
  const header = Buffer.from(`P6\n${width} ${height}\n255\n`, 'ascii');
  const pixels = Buffer.alloc(width * height * 3);
  const spine = Math.max(1, Math.round(width / 16));
  for (let y = 0; y < height; y++) {
    if (y % 64 === 0) signal.throwIfAborted();
    const inBand = y >= height * 0.3 && y < height * 0.55;
    for (let x = 0; x < width; x++) {
      const colour = inBand ? band : background;
      const shade = x < spine ? 0.6 : 1;
      const offset = (y * width + x) * 3;
      pixels[offset] = Math.round(colour[0] * shade);
      pixels[offset + 1] = Math.round(colour[1] * shade);
      pixels[offset + 2] = Math.round(colour[2] * shade);
    }
  }
  return Buffer.concat([header, pixels]);
}

class CoverThumbnailTask extends Task<CoverInput, CoverResult> {
  static override retrySafe = true;

  async run(ctx: TaskContext): Promise<CoverResult> {
    const { width, format, folder } = this.input;
    ctx.status(`Drawing a ${width} px ${format.toUpperCase()} cover`);
    const data = format === 'svg' ? svgCover(this.input) : ppmCover(this.input, ctx.signal);
    const covers = join(folder, 'covers');
    await mkdir(covers, { recursive: true });
    const path = join(covers, `cover-${width}.${format}`);
    await writeFileAtomically(path, data);
    const file = relative(this.input.storagePath, path).split('\\').join('/');
    const bytes = Buffer.byteLength(data);
    ctx.log.info(`Wrote ${file} (${bytes} bytes)`);
    ctx.progress(100);
    return { file, width, height: heightOf(width), bytes };
  }
}

/** Rebuilds a book's cover thumbnails, one task per size. */
export class BookCoversPlugin extends ActionBookPlugin({
  id: 'book-covers',
  name: 'Rebuild cover thumbnails',
  description: 'Draws the cover thumbnails of one book in the sizes you choose, from its title and author.',
  category: 'Books',
  sortOrder: 1,
  permissions: [WRITE_MEDIA],
  args: CoverArgs,
  tasks: [CoverThumbnailTask],
}) {
  createTasks(args: CoverArgs, book: Book) {
    return args.sizes.map(
      (width) =>
        new CoverThumbnailTask({
          bookId: book.id,
          title: book.title,
          author: book.author,
          folder: book.folder,
          storagePath: this.bookStoragePath,
          width,
          format: args.format,
        }),
    );
  }
}
