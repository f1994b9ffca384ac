// The task of stream-lines.ts: a file read line by line in a worker, each line
// parsed and yielded as it is read. The worker reads ahead only as far as the
// consumer's window allows, so a file of any size takes constant memory.
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'

export interface Sale {
  id: number
  item: string
  amount: number
}

/** Yields each line `id,item,amount` of the file as a Sale; returns how many lines it read. */
export async function* parseSales(path: string): AsyncGenerator<Sale, number> {
  let lines = 0
  const input = createReadStream(path)
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      lines++
      const [id, item, amount] = line.split(',')
      yield { id: Number(id), item: item!, amount: Number(amount) }
    }
  } finally {
    input.destroy() // the consumer may stop early: the file is closed either way
  }
  return lines
}
