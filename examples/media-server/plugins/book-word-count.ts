import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Task, type TaskContext } from '@plugboard/core';
import { ActionBookPlugin, type Book } from '../src/plugin-classes.ts';

class CountWordsTask extends Task<{ file: string }, { words: number }> {
  async run(ctx: TaskContext) {
    const text = await readFile(this.input.file, 'utf8');
    const words = text.split(/\s+/).filter(Boolean).length;
    ctx.log.info(`${words} words`);
    return { words };
  }
}

export class BookWordCount extends ActionBookPlugin({
  id: 'book-word-count',
  name: 'Count a book’s words',
  description: 'Counts the words of a book’s text.',
  category: 'Books',
  tasks: [CountWordsTask],
}) {
  createTasks(_args: unknown, book: Book) {
    return new CountWordsTask({ file: join(book.folder, 'text.txt') });
  }
}
