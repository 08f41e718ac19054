import * as z from 'zod';
import { unstorableMessage } from './topic.ts';

/** Meta's limit on a Send API message's text. */
const TEXT_MAX_CHARS = 2000;

const quickReplySchema = z
  .looseObject({
    content_type: z.enum(['text', 'user_phone_number', 'user_email']),
    title: z.string().min(1).max(20, 'at most 20 characters').optional(),
    payload: z.union([z.string().max(1000, 'at most 1000 characters'), z.number()]).optional(),
    image_url: z.url().optional(),
  })
  .refine((reply) => reply.content_type !== 'text' || reply.title !== undefined, {
    message: 'a text quick reply needs a title',
    path: ['title'],
  });

const attachmentSchema = z
  .looseObject({
    type: z.enum(['template', 'image', 'audio', 'video', 'file']),
    payload: z.record(z.string(), z.unknown(), { error: 'must be an object' }),
  })
  .refine(
    (attachment) =>
      attachment.type !== 'template' ||
      (typeof attachment.payload.template_type === 'string' &&
        attachment.payload.template_type !== '' &&
        attachment.payload.template_type !== 'notification_messages'),
    {
      message: 'a template needs a template_type (other than the opt-in notification_messages)',
      path: ['payload', 'template_type'],
    },
  );

/**
 * A Send API `message` object: text or one attachment, with optional quick replies, small and
 * shallow enough to be stored in the topic's item.
 */
export const sendApiMessageSchema = z
  .strictObject(
    {
      text: z
        .string()
        .min(1, 'must not be empty')
        .max(TEXT_MAX_CHARS, `at most ${TEXT_MAX_CHARS} characters`)
        .optional(),
      attachment: attachmentSchema.optional(),
      quick_replies: z
        .array(quickReplySchema)
        .min(1, 'at least one')
        .max(13, 'at most 13')
        .optional(),
      metadata: z.string().max(1000, 'at most 1000 characters').optional(),
    },
    { error: 'must be a Send API message object' },
  )
  .refine((message) => (message.text === undefined) !== (message.attachment === undefined), {
    message: 'needs exactly one of text or attachment',
  })
  .superRefine((message, context) => {
    const reason = unstorableMessage(message);
    if (reason !== undefined) context.addIssue({ code: 'custom', message: reason });
  });
